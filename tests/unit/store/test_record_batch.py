"""The bulk read of trial records decodes exactly as decode_fields does, or refuses the batch (then the ledger
decodes it field by field): never a record that differs."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from orchestrator.store.codec import decode_fields, encode_fields
from orchestrator.store.record_batch import decode_batch, script_args

RECORD = {"number": 3, "status": "completed", "params": {"a": math.nan, "b": [1, {"x": 1}], "c": math.inf},
          "value": math.nan, "error": 'he said "hi"\n', "gpu": None, "logged": {"images": {"a": ["p.png"]}}}
RAW = {k: v.encode() for k, v in encode_fields(RECORD).items()}
FIELDS = [*RECORD, "worker"]


def joined(raws: list[dict[str, bytes]], fields: list[str]) -> tuple[bytes, list[int]]:
    """What RECORDS_JSON returns for these hashes (its join, restated)."""
    n, args = len(fields), script_args(fields)
    parts, counts = [], []
    for raw in raws:
        body = [args[n + j].encode() + raw[f] for j, f in enumerate(fields) if f in raw]
        counts.append(len(body))
        parts.append(b"{" + b",".join(body) + b"}" if body else b"null")
    return b"[" + b",".join(parts) + b"]", counts


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def test_records_decode_as_decode_fields_does() -> None:
    raws = [RAW, {"params": RAW["params"]}, {}, RAW | {"worker": b'"w@h"'}]
    records = decode_batch(*joined(raws, FIELDS))
    assert records is not None
    assert [canonical(r) for r in records] == [canonical(decode_fields(raw)) if raw else "null" for raw in raws]
    assert math.isnan(records[0]["params"]["a"]) and records[0]["params"]["c"] == math.inf  # type: ignore[index]


@pytest.mark.parametrize("bad", [
    b"not json",  # hand-written text: decode_fields keeps it as text
    b'1, "x": 2',  # not one JSON text: it must not add a field
    b'1, "status": 2',  # nor overwrite one
    b'1, "worker": 2',  # nor fill a field this record lacks
])
def test_a_value_that_is_not_one_json_text_refuses_the_batch(bad: bytes) -> None:
    assert decode_batch(*joined([RAW, RAW | {"number": bad}], FIELDS)) is None


def test_a_tag_outside_the_exact_fields_stays_as_written() -> None:
    raw = {"value": b'{"__float__": "nan"}', "params": b'{"a": {"__float__": "-inf"}}'}
    records = decode_batch(*joined([raw], ["value", "params"]))
    assert records is not None and canonical(records[0]) == canonical(decode_fields(raw))
    assert records[0] == {"value": {"__float__": "nan"}, "params": {"a": -math.inf}}
