"""metric.summary (best | last) ranks trials one way everywhere, and the runtime's failure streak (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.ranking import Ranking, last_of
from orchestrator.runtime import SweepRuntime
from orchestrator.scheduling import FinishSweep, step
from orchestrator.spec import SweepSpec

# A trial that peaked early (best 0.9) and ended low (final 0.5), and one that ended at its best (0.7).
PEAKED = {"number": 0, "status": "completed", "best": 0.9, "value": 0.5, "last": 0.5, "ended": 1.0}
STEADY = {"number": 1, "status": "completed", "best": 0.7, "value": 0.7, "last": 0.7, "ended": 2.0}


def spec(metric: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"name": "r", "trial": {"function": "m:f"}, "parameters": {"x": {"uniform": [0, 1]}},
                           "limits": {"max_total_runs": 10, "max_concurrent_runs": 2}, **over}
    if metric is not None:
        raw["metric"] = metric
    return SweepSpec.model_validate(raw).model_dump(mode="json")


def runtime(records: list[dict[str, Any]], **metric: Any) -> SweepRuntime:
    m = {"name": "acc", "goal": "maximize", **metric} if metric is not None else None
    doc = {"spec": spec(m), "status": "running", "next_number": len(records), "started": 0.0}
    return SweepRuntime.build("s", doc, [{**r, "params": {"x": 0.1}} for r in records])


def test_best_ranks_by_the_best_report_and_last_by_the_final_value() -> None:
    best, last = Ranking("maximize", "best"), Ranking("maximize", "last")
    assert best.pick([(v, t) for t in (PEAKED, STEADY) if (v := best.score(t)) is not None]) is PEAKED
    assert last.pick([(v, t) for t in (PEAKED, STEADY) if (v := last.score(t)) is not None]) is STEADY
    assert Ranking("minimize", "best").score(PEAKED) == 0.5 and Ranking("minimize", "last").score(PEAKED) == 0.5


def test_last_is_the_final_value_else_the_last_report_and_never_nan() -> None:
    assert last_of({"value": 0.3, "last": 0.8}) == 0.3  # a returned (or explicit summary) value wins
    assert last_of({"value": None, "last": 0.8}) == 0.8  # a running or revoked trial: its last report
    assert last_of({"value": "nan", "last": 0.8}) is None and last_of({}) is None


def test_ranking_reads_metric_models_and_stored_dicts() -> None:
    assert Ranking.of({"name": "a", "goal": "minimize", "summary": "last"}) == Ranking("minimize", "last")
    assert Ranking.of({"name": "a", "goal": "maximize"}) == Ranking("maximize", "best")  # specs stored before summary
    assert Ranking.of(None) is None


@pytest.mark.parametrize(("summary", "number", "value"), [("best", 0, 0.9), ("last", 1, 0.7)])
def test_the_runtime_best_and_the_target_follow_metric_summary(summary: str, number: int, value: float) -> None:
    rt = runtime([PEAKED, STEADY], summary=summary, target=0.8)
    assert rt.best() == (number, value)
    commands = step(rt.snapshot(now=1.0), rt.sampler)  # type: ignore[arg-type]
    reached = [FinishSweep("completed", "metric target reached")]
    assert (commands == reached) == (summary == "best")  # 0.9 was reported; the final values stay below 0.8


def test_a_sweep_without_a_metric_has_no_best_and_no_target() -> None:
    doc = {"spec": spec(None), "status": "running", "next_number": 2, "started": 0.0}
    rt = SweepRuntime.build("s", doc, [{**PEAKED, "params": {"x": 0.1}}, {**STEADY, "params": {"x": 0.2}}])
    assert rt.best() is None and rt.ranking is None
    snap = rt.snapshot(now=1.0)
    assert snap.target is None and snap.best_value is None and snap.succeeded == 2


def test_the_failure_streak_counts_in_end_order_and_a_success_resets_it() -> None:
    records = [
        {"number": 0, "status": "failed", "error": "e0", "ended": 5.0},
        {"number": 1, "status": "completed", "value": 0.1, "ended": 3.0},  # ended before trial 0 failed
        {"number": 2, "status": "failed", "error": "e2", "ended": 6.0},
        {"number": 3, "status": "running"},
    ]
    rt = runtime(records)
    assert (rt.failure_streak, rt.streak_errors) == (2, [(0, "e0"), (2, "e2")])
    rt.update({**records[3], "params": {"x": 0.1}, "status": "completed", "value": 0.2, "ended": 7.0})
    assert (rt.failure_streak, rt.streak_errors) == (0, [])
    rt.update({"number": 4, "params": {}, "status": "failed", "error": "e4", "ended": 8.0})
    rt.update({"number": 4, "params": {}, "status": "failed", "error": "e4", "ended": 8.0})  # read again: counted once
    snap = rt.snapshot(now=9.0)
    assert (snap.consecutive_failures, snap.failed, snap.succeeded) == (1, 3, 2)
    assert snap.failure_errors == ((4, "e4"),)


def test_the_default_failure_limit_is_max_of_5_and_twice_the_concurrency() -> None:
    assert runtime([]).failure_limit() == 5  # max_concurrent_runs = 2
    wide = {"spec": spec({"name": "a", "goal": "maximize"}, limits={"max_total_runs": 50, "max_concurrent_runs": 8})}
    assert SweepRuntime.build("s", {**wide, "status": "running"}, []).failure_limit() == 16
    off = {"spec": spec({"name": "a", "goal": "maximize"}, limits={"max_total_runs": 5, "max_consecutive_failures": 0})}
    assert SweepRuntime.build("s", {**off, "status": "running"}, []).failure_limit() is None
