"""Trial hygiene's pure parts: linear metric-line parsing, line and tail caps, non-finite metrics, thread limits."""

from __future__ import annotations

import io
import json
import math

import pytest

from orchestrator.store.codec import dumps, metric_float
from workers.runners.command import MAX_LINE, TAIL_LINE_CHARS, _cut, _lines, parse_metric_line
from workers.runners.threads import THREAD_VARS, limit_env, threads_per_trial

KNOWN = {"loss"}.__contains__


@pytest.mark.timeout(30)  # not a speed target: the quadratic regex took minutes on this line (about 280 s here)
def test_a_200_kb_line_of_word_characters_parses_at_once() -> None:
    assert parse_metric_line("a" * 200_000, KNOWN) is None
    assert parse_metric_line("a" * 200_000 + "=1", KNOWN) is None
    assert parse_metric_line("loss=" + "1" * 200_000, KNOWN) is None  # over MAX_LINE: never a report


def test_a_long_line_under_the_limit_with_many_pairs_still_parses() -> None:
    line = " ".join(["loss=0.5"] * ((MAX_LINE - 100) // 9))
    assert parse_metric_line(line, KNOWN) == ({"loss": 0.5}, None)
    assert parse_metric_line("x" * 30_000 + "=1 loss=2", KNOWN) == ({"loss": 2.0}, None)


def test_names_and_values_are_checked_token_by_token() -> None:
    assert parse_metric_line("-loss=1", KNOWN) is None
    assert parse_metric_line("loss=1=2", KNOWN) is None
    assert parse_metric_line("loss=", KNOWN) is None
    assert parse_metric_line("loss=-inf step=4", KNOWN) == ({"loss": -math.inf}, 4)


def test_an_over_long_line_is_split_into_unparsed_pieces_and_the_next_line_is_whole() -> None:
    out = io.StringIO("loss=1\n" + "y" * (3 * MAX_LINE) + "\nloss=2\n")
    pieces = list(_lines(out))
    assert pieces[0] == ("loss=1\n", True) and pieces[-1] == ("loss=2\n", True)
    middle = pieces[1:-1]
    assert len(middle) == 3 and not any(whole for _, whole in middle)
    assert all(len(piece) <= MAX_LINE + 1 for piece, _ in middle)
    assert "".join(piece for piece, _ in middle) == "y" * (3 * MAX_LINE) + "\n"


def test_a_line_of_exactly_the_limit_is_whole() -> None:
    assert list(_lines(io.StringIO("z" * MAX_LINE + "\n"))) == [("z" * MAX_LINE + "\n", True)]


def test_log_tail_lines_are_cut() -> None:
    cut = _cut("w" * 10_000_000)
    assert len(cut) < TAIL_LINE_CHARS + 100 and cut.startswith("w" * TAIL_LINE_CHARS) and "cut" in cut
    assert _cut("short") == "short"


def test_infinities_and_nan_anywhere_are_strict_json_and_read_back_with_their_sign() -> None:
    for value in (math.inf, -math.inf, math.nan):
        text = dumps({"best": value, "final_metrics": {"loss": value}, "curve": [1.0, value]})
        doc = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))  # strict: no Infinity
        for stored in (doc["best"], doc["final_metrics"]["loss"], doc["curve"][1]):
            back = metric_float(stored)
            assert back is not None
            assert (math.isnan(back) and math.isnan(value)) or back == value
        assert doc["curve"][0] == 1.0
    assert dumps(math.inf) == '"inf"' and dumps(-math.inf) == '"-inf"' and dumps(1.5) == "1.5"


def test_thread_limits_default_to_cores_over_concurrency_and_keep_what_the_user_set() -> None:
    assert threads_per_trial(concurrency=10_000) == 1
    assert threads_per_trial(concurrency=1, override=3) == 3
    added = limit_env({"OMP_NUM_THREADS": "7", "PATH": "/bin"}, 2)
    assert "OMP_NUM_THREADS" not in added
    assert added == {name: "2" for name in THREAD_VARS if name != "OMP_NUM_THREADS"}
