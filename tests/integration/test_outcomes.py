"""How sweeps end, on real Redis and worker processes: failed sweeps say why, failing sweeps stop, sweeps without a
metric run and have no best trial, and metric.summary picks the best trial (best report vs final value)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.dashboard.payload import sweep_payload
from orchestrator.progress import progress_line
from tests.integration.conftest import SWEEPQ, Cluster
from tests.integration.outcome_trials import CURVES

TRIALS = "tests.integration.outcome_trials"


def sweepq(cluster: Cluster, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, against this test's Redis and key prefix."""
    return subprocess.run([*SWEEPQ, *args], env=cluster.env, cwd=Path(__file__).parents[2], capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_a_sweep_whose_every_trial_failed_ends_failed_with_the_errors(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    spec = cluster.spec(trial={"function": f"{TRIALS}:broken"},
                        limits={"max_total_runs": 3, "max_concurrent_runs": 1, "max_consecutive_failures": 0})
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=60, progress=False)
    xs = {t["number"]: t["params"]["x"] for t in sweep.trials()}
    assert final["status"] == "failed" and len(xs) == 3
    assert final["reason"].startswith("max_total_runs reached; no trial succeeded (3 failed); first errors: #0: ")
    for n, x in xs.items():  # every error quoted by its trial number, as the exception's own line
        assert f"#{n}: ValueError: bad x={x:.3f}" in final["reason"]
    assert "Traceback" not in final["reason"] and sweep.best_trial() is None
    page = sweep_payload(sweep)  # what the dashboard shows
    assert page["status"]["status"] == "failed" and page["status"]["reason"] == final["reason"] and page["best"] is None
    shown = sweepq(cluster, "status", sweep.id)
    assert shown.returncode == 0 and "failed" in shown.stdout and "ValueError: bad x=" in shown.stdout


def test_trials_failing_in_a_row_stop_the_sweep(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    spec = cluster.spec(trial={"function": f"{TRIALS}:broken"},
                        limits={"max_total_runs": 50, "max_concurrent_runs": 1, "max_consecutive_failures": 3})
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=60, progress=False)
    trials = sweep.trials()
    assert final["status"] == "failed"
    assert final["reason"].startswith("3 trials failed in a row (limits.max_consecutive_failures = 3); first errors: #0: ")
    assert [t["status"] for t in trials] == ["failed"] * 3  # one at a time: nothing started after the third failure


def test_the_default_failure_limit_is_twice_the_concurrency_at_least_five(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=3)
    spec = cluster.spec(trial={"function": f"{TRIALS}:broken"}, limits={"max_total_runs": 100, "max_concurrent_runs": 3})
    final = cluster.client.submit(spec).wait(timeout=60, progress=False)
    assert final["status"] == "failed" and "(limits.max_consecutive_failures = 6)" in final["reason"]
    assert 6 <= final["counts"]["failed"] + final["counts"].get("canceled", 0) <= 6 + 3  # the limit, plus what flew


def test_a_success_between_failures_keeps_the_sweep_going(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    spec = cluster.spec(trial={"function": f"{TRIALS}:fails_unless_third"}, parameters={"k": {"choice": list(range(9))}},
                        sampling={"method": "grid"},
                        limits={"max_concurrent_runs": 1, "max_consecutive_failures": 3})
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=90, progress=False)
    assert final["status"] == "completed", final
    assert final["counts"] == {"failed": 6, "completed": 3}
    best = sweep.best_trial()
    assert best is not None and best["params"]["k"] == 8


def test_a_sweep_without_a_metric_runs_every_trial_and_has_no_best(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(trial={"function": f"{TRIALS}:no_metric"}, limits={"max_total_runs": 4, "max_concurrent_runs": 2})
    del spec["metric"]
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=60, progress=False)
    assert final["status"] == "completed" and final["counts"] == {"completed": 4}
    assert final["metric"] is None and final["best"] is None and sweep.best_trial() is None
    assert sweep.best_trials() == [] and "no metric" in progress_line(final)
    assert len(sweep.metrics()) == 4  # the reports were still recorded
    page = sweep_payload(sweep)
    assert page["has_metric"] is False and page["metric"] == "no metric" and page["best"] is None
    best = sweepq(cluster, "best", sweep.id)
    assert best.returncode == 1 and "has no metric" in best.stderr
    status = sweepq(cluster, "status", sweep.id)
    assert status.returncode == 0 and "no metric" in status.stdout


@pytest.mark.parametrize(("summary", "winner", "value"), [("best", "peak", 0.9), ("last", "steady", 0.5)])
def test_metric_summary_picks_the_best_trial(cluster: Cluster, summary: str, winner: str, value: float) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(trial={"function": f"{TRIALS}:curve"}, parameters={"kind": {"choice": list(CURVES)}},
                        sampling={"method": "grid"}, metric={"name": "score", "goal": "maximize", "summary": summary})
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=60, progress=False)
    best = sweep.best_trial()
    assert final["status"] == "completed" and best is not None
    assert best["params"]["kind"] == winner
    assert final["best"] == {"number": best["number"], "value": value}  # the sweep's status agrees with best_trial()
    shown = sweepq(cluster, "best", sweep.id)
    assert shown.returncode == 0 and f"score = {value}" in shown.stdout


def test_sweepq_run_exits_non_zero_when_the_sweep_failed(cluster: Cluster, tmp_path: Path) -> None:
    spec: dict[str, Any] = cluster.spec(trial={"function": f"{TRIALS}:broken"},
                                        limits={"max_total_runs": 2, "max_concurrent_runs": 1})
    path = tmp_path / "failing.yaml"
    path.write_text(yaml.safe_dump(spec))
    url = cluster.env["SWEEPQ_REDIS_URL"]
    done = sweepq(cluster, "run", str(path), "--redis", url, "--workers", "1", "--no-progress", timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "failed: max_total_runs reached; no trial succeeded (2 failed)" in done.stdout


def test_sweepq_run_without_a_metric_prints_the_trials_and_exits_zero(cluster: Cluster, tmp_path: Path) -> None:
    spec: dict[str, Any] = cluster.spec(trial={"function": f"{TRIALS}:no_metric"},
                                        limits={"max_total_runs": 3, "max_concurrent_runs": 1})
    del spec["metric"]
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(spec))
    url = cluster.env["SWEEPQ_REDIS_URL"]
    done = sweepq(cluster, "run", str(path), "--redis", url, "--workers", "1", "--no-progress", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line for line in done.stdout.splitlines() if "completed" in line and "│" in line]
    assert len(rows) == 3 and "no metric: this sweep has no best trial" in done.stderr
