"""Compacted curves, pure parts: a report survives compaction unchanged, and curves plus the stream's tail merge
into one oldest-first list with each entry once (no Redis here: the integration tests cover the script)."""

from __future__ import annotations

from orchestrator.store.keys import Keys
from orchestrator.store.streams import (
    after,
    compact_element,
    decode_entry,
    entry_key,
    expand_element,
    merged,
    text_entries,
    text_fields,
)


def entry(trial: int, step: int, value: float, seq: int | None = None) -> dict[str, str]:
    fields = {"trial": str(trial), "attempt": "2", "step": str(step), "values": f'{{"loss": {value}, "a|b": 1}}',
              "t": "1764090000.25"}
    return fields | ({"seq": str(seq)} if seq is not None else {})


def test_a_compacted_report_decodes_as_the_stream_entry_did() -> None:
    for fields in (entry(7, 3, 0.5, seq=3), entry(7, 3, 0.5)):  # entries older than fencing carry no seq
        element = compact_element("1764090000123-4", fields)
        assert element.count("|") >= 5 and len(element) < 80
        entry_id, back = expand_element(7, element)
        assert decode_entry(entry_id, back) == decode_entry("1764090000123-4", fields)


def test_curves_and_tail_merge_oldest_first_each_entry_once() -> None:
    curves = {"10-0": entry(1, 1, 0.1), "9-5": entry(0, 1, 0.2), "11-0": entry(0, 2, 0.3)}
    tail = {"11-0": entry(0, 2, 0.3), "12-1": entry(1, 2, 0.4), "12-0": entry(0, 3, 0.5)}  # 11-0 in both
    ids = [i for i, _ in merged(curves, tail)]
    assert ids == ["9-5", "10-0", "11-0", "12-0", "12-1"]


def test_entry_ids_order_numerically_and_after_is_the_next_id() -> None:
    assert entry_key("9-10") > entry_key("9-9") and entry_key("10-0") > entry_key("9-99")
    assert after("1764090000123-4") == "1764090000123-5"
    assert entry_key(after("5-0")) > entry_key("5-0")


def test_curve_and_counter_keys_belong_to_their_sweep() -> None:
    keys = Keys("p")
    assert keys.curve("s1", 3) == "p:sweep:s1:curve:3"
    assert keys.continues("s1") == "p:sweep:s1:continues"
    for key in (keys.curve("s1", 3), keys.continues("s1")):
        assert key.startswith(keys.sweep_pattern("s1").rstrip("*"))  # deleted with the sweep


def test_entries_decoded_once_read_the_same_as_raw_ones() -> None:
    raw = [(b"5-1", {k.encode(): v.encode() for k, v in entry(3, 2, 0.25, seq=2).items()})]
    decoded = text_entries(raw)
    assert decoded == [("5-1", entry(3, 2, 0.25, seq=2))]
    assert decode_entry(*decoded[0]) == decode_entry(*raw[0])
    assert text_fields(decoded[0][1]) is decoded[0][1]  # already text: not copied again
    assert text_entries(decoded) == decoded  # a client that decodes its replies
