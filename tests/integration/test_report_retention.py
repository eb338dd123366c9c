"""No report is lost at any size, on real Redis and workers: the evaluator compacts the reports it applied into
per-trial curves and trims the stream only below them, so metrics(), an evaluator's rebuild and warm start read
every report, however far past the old stream cap (SWEEPQ_STREAM_MAXLEN, set to its smallest value here) a sweep
goes; continue decisions are counted exactly once, stop decisions listed."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from orchestrator.dashboard.live import LiveSweep
from orchestrator.evaluator import Evaluator, Watch
from orchestrator.metrics_table import MetricTable
from orchestrator.policies import create_policy
from orchestrator.spec import SweepSpec
from orchestrator.store.streams import read_reports
from tests.faults.scenarios import unevaluated
from tests.integration.conftest import SWEEPQ, Cluster, kill_group, wait_until

pytestmark = pytest.mark.integration

OLD_CAP = 1000  # the smallest stream_maxlen allowed: before compaction, a stream kept about this many reports
NEVER_STOPS = {"policy": "bandit", "slack_factor": 100, "evaluation_interval": 1}  # decides every report, stops none


def long_curves(cluster: Cluster, xs: list[float], steps: int, pause: float = 0.0, **kw: Any) -> dict[str, Any]:
    return cluster.spec(
        trial={"function": "tests.integration.trials:curve_up"},
        parameters={"x": {"choice": xs}, "steps": {"choice": [steps]}, "pause": {"choice": [pause]}},
        sampling={"method": "grid"},
        metric={"name": "score", "goal": "maximize"},
        limits={"max_concurrent_runs": 2},
        **kw,
    )


def expected_reports(sweep: Any, steps: int) -> dict[tuple[int, int], float]:
    return {(t["number"], k): t["params"]["x"] * k for t in sweep.trials() for k in range(1, steps + 1)}


def stream_length(cluster: Cluster, sweep_id: str) -> int:
    return int(cluster.client.ledger.r.xlen(cluster.client.ledger.keys.metrics(sweep_id)))


def test_more_reports_than_the_old_cap_are_all_read_back_after_an_evaluator_restart(cluster: Cluster) -> None:
    cluster.env["SWEEPQ_STREAM_MAXLEN"] = str(OLD_CAP)
    cluster.env["SWEEPQ_STREAM_TAIL_SECONDS"] = "0"  # trim right behind the evaluator
    cluster.env["SWEEPQ_LEASE_SECONDS"] = "30"  # no retry on a loaded machine: each trial reports its curve once
    cluster.spawn("scheduler", "--no-evaluator", log="scheduler.log")
    first = cluster.spawn("evaluator", log="evaluator-1.log")
    cluster.worker(concurrency=2)
    steps, xs = 700, [1.0, 0.5, 0.9, 0.2, 0.6]  # 3,500 reports
    sweep = cluster.client.submit(long_curves(cluster, xs, steps, early_termination=NEVER_STOPS))
    wait_until(lambda: sweep.decision_counts()["continue"] >= 400, 90, "the first evaluator's first decisions")
    live = LiveSweep(cluster.client.sweep(sweep.id))  # the dashboard's view, read mid-sweep then polled
    kill_group(first)  # SIGKILL: a batch it read but did not commit stays pending, uncompacted
    cluster.spawn("evaluator", log="evaluator-2.log")
    assert sweep.wait(timeout=180, progress=False)["status"] == "completed"
    wait_until(lambda: unevaluated(cluster, sweep) == 0, 60, "the evaluator to apply every report")
    live.refresh()  # what it missed was compacted and trimmed meanwhile: read from the curves
    for t in sweep.trials():
        assert list(live.data.series[t["number"]]) == pytest.approx([t["params"]["x"] * k for k in range(1, steps + 1)])

    reports = sweep.metrics()
    expected = expected_reports(sweep, steps)
    assert {t["attempt"] for t in sweep.trials()} == {1}
    written = int(cluster.client.ledger.r.xinfo_stream(cluster.client.ledger.keys.metrics(sweep.id))["entries-added"])
    assert len(reports) == len(expected) == written == steps * len(xs)  # every report written, once ...
    assert {(r["trial"], r["step"]): r["values"]["score"] for r in reports} == pytest.approx(expected)  # ... no gap
    assert [r["step"] for r in sweep.metrics(2)] == list(range(1, steps + 1))
    assert stream_length(cluster, sweep.id) < OLD_CAP  # most reports are only in the curves now
    # each report decided once, across the restart: counted, not listed (no continue document per interval)
    assert sweep.decision_counts() == {"stop": 0, "continue": steps * len(xs), "continue_listed": 0}
    assert sweep.decisions() == []
    shown = subprocess.run([*SWEEPQ, "decisions", sweep.id], env=cluster.env, capture_output=True, text=True, timeout=60)
    assert f"continue decisions: {steps * len(xs)} counted, not listed" in " ".join(shown.stdout.split()), shown


def test_a_rebuild_and_a_warm_start_see_reports_trimmed_from_the_stream(cluster: Cluster) -> None:
    cluster.env["SWEEPQ_STREAM_TAIL_SECONDS"] = "0"
    cluster.env["SWEEPQ_LEASE_SECONDS"] = "30"  # no retry on a loaded machine
    cluster.scheduler()
    cluster.worker(concurrency=2)
    steps = 1500
    first = cluster.client.submit(long_curves(cluster, [1.0], steps, early_termination=NEVER_STOPS))
    assert first.wait(timeout=120, progress=False)["status"] == "completed"
    wait_until(lambda: unevaluated(cluster, first) == 0, 60, "the evaluator to apply every report")
    assert stream_length(cluster, first.id) < steps // 2  # the early reports are gone from the stream

    spec = first.spec
    watch = Watch(first.id, spec, create_policy(spec), MetricTable("score", "maximize"))
    Evaluator(cluster.settings)._catch_up(watch)  # what a new evaluator rebuilds on takeover
    assert list(watch.table.curves[0]) == pytest.approx([1.0 * k for k in range(1, steps + 1)])

    warm = first.spec.model_copy(update={"resume_from": (first.id,)})
    watch = Watch("later", warm, create_policy(warm), MetricTable("score", "maximize"))
    Evaluator(cluster.settings)._warm(watch)  # what a warm-started sweep's evaluator loads
    assert list(watch.table.curves[-1]) == pytest.approx([1.0 * k for k in range(1, steps + 1)])

    # Cold, x=0.5 would be the only run and never stopped; warm, the earlier x=1.0 curve (its first
    # reports only in the compacted curve) sets B = 1 at interval 1, and 0.5 < 1 / 1.5.
    policy = {"policy": "bandit", "slack_factor": 0.5}
    second = cluster.client.submit(long_curves(cluster, [0.5], 3, 0.2, early_termination=policy, resume_from=[first.id]))
    assert second.wait(timeout=60, progress=False)["status"] == "completed"
    assert {d["trial"]: d["interval"] for d in second.decisions() if d["stop"]} == {0: 1}
    assert second.decision_counts()["stop"] == 1


def test_the_stream_keeps_its_recent_tail_and_a_report_in_both_is_read_once(cluster: Cluster) -> None:
    cluster.env["SWEEPQ_LEASE_SECONDS"] = "30"  # no retry on a loaded machine
    cluster.scheduler()  # the default tail: compacted reports stay in the stream for a minute too
    cluster.worker(concurrency=2)
    steps, xs = 200, [1.0, 0.5]
    sweep = cluster.client.submit(long_curves(cluster, xs, steps, early_termination=NEVER_STOPS))
    assert sweep.wait(timeout=60, progress=False)["status"] == "completed"
    wait_until(lambda: unevaluated(cluster, sweep) == 0, 60, "the evaluator to apply every report")
    r, keys = cluster.client.ledger.r, cluster.client.ledger.keys
    assert stream_length(cluster, sweep.id) == steps * len(xs)  # nothing trimmed yet ...
    assert sum(int(r.llen(keys.curve(sweep.id, n))) for n in range(len(xs))) == steps * len(xs)  # ... all compacted
    reports = sweep.metrics()
    assert sorted((r["trial"], r["step"]) for r in reports) == sorted(expected_reports(sweep, steps))


def test_reports_acknowledged_before_compaction_existed_are_adopted_not_trimmed(cluster: Cluster) -> None:
    """A stream an older sweepq evaluated (acknowledged, never compacted): a new evaluator's rebuild moves those
    reports into the curves before it trims, and evaluates again only the one left pending."""
    r, keys, sweep_id = cluster.client.ledger.r, cluster.client.ledger.keys, "old-sweep"
    stream = keys.metrics(sweep_id)
    for n in range(2):
        r.zadd(keys.trial_numbers(sweep_id), {str(n): n})
    for k in range(1, 31):
        r.xadd(stream, {"trial": str(k % 2), "attempt": "1", "step": str(k), "values": f'{{"score": {k}}}', "t": "1.0"})
    r.xgroup_create(stream, "evaluator", id="0")
    read: Any = r.xreadgroup("evaluator", "old", {stream: ">"}, count=30)
    ids = [e[0] for e in read[0][1]]
    r.xack(stream, "evaluator", *ids[:-1])  # the old evaluator died before acknowledging the last one
    spec = SweepSpec.model_validate(long_curves(cluster, [1.0], 30, early_termination=NEVER_STOPS))
    watch = Watch(sweep_id, spec, create_policy(spec), MetricTable("score", "maximize"))
    Evaluator(cluster.settings.model_copy(update={"stream_tail_seconds": 0.0}))._catch_up(watch)
    assert r.xlen(stream) < 30  # trimmed ...
    assert [report.step for report in read_reports(r, keys, sweep_id)] == list(range(1, 31))  # ... and nothing lost
    assert int(r.get(keys.continues(sweep_id)) or 0) == 1  # only the pending report was evaluated again


def test_a_sweep_without_a_policy_is_compacted_too(cluster: Cluster) -> None:
    cluster.env["SWEEPQ_STREAM_TAIL_SECONDS"] = "0"
    cluster.env["SWEEPQ_LEASE_SECONDS"] = "30"  # no retry on a loaded machine
    cluster.scheduler()
    cluster.worker(concurrency=2)
    steps = 300
    sweep = cluster.client.submit(long_curves(cluster, [1.0, 0.5], steps))  # early_termination: none
    assert sweep.wait(timeout=60, progress=False)["status"] == "completed"
    wait_until(lambda: stream_length(cluster, sweep.id) == 0, 30, "the ended sweep's stream compacted and trimmed")
    r, keys = cluster.client.ledger.r, cluster.client.ledger.keys
    assert [int(r.llen(keys.curve(sweep.id, n))) for n in (0, 1)] == [steps, steps]
    assert sweep.decision_counts() == {"stop": 0, "continue": 0, "continue_listed": 0}  # compacted, not judged
    got = {(m["trial"], m["step"]): m["values"]["score"] for m in sweep.metrics()}
    assert got == pytest.approx(expected_reports(sweep, steps))
