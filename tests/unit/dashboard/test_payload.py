"""The page document from a sweep's data, its incremental curves and the paged trials table (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.dashboard import figures
from orchestrator.dashboard.payload import SweepData, build, table_page
from orchestrator.loading import load_spec

SPEC = load_spec({
    "name": "page", "trial": {"function": "tests.integration.trials:sleepy"},
    "parameters": {"x": {"uniform": [0, 1]}}, "metric": {"name": "acc", "goal": "maximize"},
    "limits": {"max_total_runs": 10, "max_concurrent_runs": 2},
})
REPORTS = [
    (0, 1, {"acc": 0.1}), (1, 1, {"acc": 0.5}), (0, 1, {"loss": 3.0}), (0, 1, {"acc": 0.2}),
    (1, 1, {"acc": 0.4}), (1, 2, {"acc": 0.9}), (1, 1, {"acc": 0.0}), (0, 1, {"acc": 0.3}),  # #1 retried
]


def data(raw: bool) -> SweepData:
    d = SweepData(status={"id": "s", "name": "page", "best": {"number": 1, "value": 0.9}}, spec=SPEC)
    d.set_rows([{"number": 0, "status": "completed", "params": {"x": 0.2}, "value": 0.3, "best": 0.3, "attempt": 1},
                {"number": 1, "status": "running", "params": {"x": 0.7}, "value": None, "best": 0.9, "attempt": 2}])
    for trial, attempt, values in REPORTS:
        if raw:
            d.add_raw_report(trial, attempt, json.dumps(values).encode())
        else:
            d.add_report(trial, attempt, values)
    return d


def test_curves_follow_the_latest_attempt_whether_decoded_at_once_or_lazily() -> None:
    eager, lazy = data(raw=False), data(raw=True)
    assert dict(eager.series) == {0: [0.1, 0.2, 0.3], 1: [0.9]}
    assert dict(lazy.series) == dict(eager.series)
    reports = [{"trial": t, "attempt": a, "values": v} for t, a, v in REPORTS]
    rows = list(eager.rows.values())
    assert figures.curves(reports, rows, "acc") == dict(eager.series)  # the same as the report's rule


def test_the_live_page_leaves_the_rows_out_and_the_report_embeds_them() -> None:
    d = data(raw=True)
    live, report = build(d, with_rows=False), build(d)
    assert "trials" not in live and live["trial_count"] == 2
    assert [r["number"] for r in report["trials"]] == [0, 1]
    assert live["best"] == {"number": 1, "value": 0.9, "params": {"x": 0.7}}  # from the status: O(1)
    assert [t["name"] for t in live["charts"]["metrics"]["data"]] == ["#0", "#1"]


def test_the_best_trial_is_ranked_from_the_rows_when_the_status_lacks_it() -> None:
    d = data(raw=False)
    d.status = {"id": "s", "name": "page"}
    d.rows[1]["status"] = "completed"
    assert build(d)["best"]["number"] == 1


def rows(n: int) -> list[dict[str, Any]]:
    return [{"number": i, "status": "completed" if i % 2 else "failed", "value": None if i % 2 == 0 else i / 10,
             "params": {"x": i}} for i in range(n)]


def test_a_table_page_is_sorted_with_missing_values_last() -> None:
    page = table_page(rows(10), offset=0, limit=3, sort="value", desc=True)
    assert page["total"] == 10 and [r["number"] for r in page["rows"]] == [9, 7, 5]
    tail = table_page(rows(10), offset=3, limit=5, sort="value")
    assert [r["number"] for r in tail["rows"]] == [7, 9, 0, 2, 4]  # valued ascending, then those without a value
    assert table_page(rows(10), sort="nonsense")["sort"] == "number"
    assert table_page(rows(5), offset=4, limit=10_000)["limit"] == 1000 and len(table_page(rows(5), offset=4)["rows"]) == 1


def test_a_compacted_curve_is_read_lazily_keeping_its_latest_attempt_then_the_stream_tail() -> None:
    d = SweepData(status={"id": "s", "name": "page"}, spec=SPEC)
    elements = [b'1-0|1|1|1|0.0|{"acc": 0.1}', b'2-0|1|2|2|0.0|{"loss": 1}', b'3-0|2|1|1|0.0|{"acc": 0.7}',
                b'4-0|2|2|2|0.0|{"acc": 0.8, "loss": 0.5}']
    d.add_curve(3, elements)
    d.add_raw_report(3, 2, b'{"acc": 0.9}')  # the stream's tail, after the curve
    d.add_raw_report(3, 1, b'{"acc": 0.0}')  # an older attempt: not on the curve
    assert d.series.compacted and dict(d.series) == {3: [0.7, 0.8, 0.9]}
    assert not d.series.compacted  # decoded once, on first read


def test_a_curve_decoded_in_one_go_is_exactly_its_reports_decoded_one_by_one() -> None:
    d = SweepData(status={"id": "s", "name": "page"}, spec=SPEC)
    for text in (b'{"acc": 0.1}', b'{"acc": 2, "loss": [1, 2]}', b'{"loss": 1}', b'{"acc": true}', b'{"acc": 0.3}'):
        d.add_raw_report(0, 1, text)
    assert d.series[0] == [0.1, 2.0, 1.0, 0.3]  # a bool is an int to JSON's reader, as it was report by report
    forged = SweepData(status={"id": "s", "name": "page"}, spec=SPEC)
    forged.add_raw_report(0, 1, b'{"acc": 0.1}, {"acc": 5}')  # two objects in one report: not one JSON text
    forged.add_raw_report(0, 1, b'{"acc": 0.2}')
    with pytest.raises(ValueError):  # refused as a report-by-report read refuses it, never drawn as three points
        forged.series[0]
