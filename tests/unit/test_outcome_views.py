"""What users read about a sweep's outcome: progress line, sweeps table and outcome line (pure rendering)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from orchestrator.loading import load_spec
from orchestrator.progress import outcome_line, progress_line, sweeps_table
from orchestrator.summary import spec_summary

METRIC = {"name": "acc", "goal": "maximize"}


def status(**over: Any) -> dict[str, Any]:
    base = {"id": "s-1", "name": "s", "status": "completed", "reason": None, "counts": {"completed": 3}, "total": 3,
            "best": {"number": 2, "value": 0.75}, "started": 0.0, "ended": 10.0, "metric": METRIC}
    return {**base, **over}


def rendered(renderable: Any) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


def test_the_progress_line_shows_the_best_value_or_no_metric() -> None:
    assert progress_line(status()).endswith("best acc 0.75 (#2)")
    assert progress_line(status(best=None)).endswith("best acc —")
    assert progress_line(status(metric=None, best=None)).endswith("· no metric")


def test_the_sweeps_table_says_no_metric_instead_of_a_best_value() -> None:
    table = rendered(sweeps_table([status(), status(id="s-2", metric=None, best=None)]))
    row1, row2 = (line for line in table.splitlines() if "s-1" in line or "s-2" in line)
    assert "0.75" in row1 and "no metric" in row2


def test_the_outcome_line_carries_the_reason() -> None:
    failed = status(status="failed", reason="no trial succeeded (2 failed); first errors: #0: ValueError: x")
    assert outcome_line(failed) == "failed: no trial succeeded (2 failed); first errors: #0: ValueError: x"
    assert outcome_line(status(status="running")) == "running"


def test_validate_summarizes_the_metric_ranking_or_its_absence() -> None:
    raw = {"name": "v", "trial": {"function": "m:f"}, "parameters": {"x": {"uniform": [0, 1]}},
           "limits": {"max_total_runs": 2}}
    assert "none (every trial runs; no best trial)" in rendered(spec_summary(load_spec(raw)))
    last = rendered(spec_summary(load_spec({**raw, "metric": {**METRIC, "summary": "last"}})))
    assert "acc (maximize, ranked by its final value)" in last
