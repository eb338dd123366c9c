"""Sweeps end to end on a real redis-server with real `sweepq scheduler` and `sweepq worker` processes."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.store.streams import read_reports
from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


def max_overlap(trials: list[dict]) -> int:
    """The most trials running at the same instant, from their recorded start and end times."""
    events = sorted([(t["started"], 1) for t in trials] + [(t["ended"], -1) for t in trials])
    return max(itertools.accumulate(delta for _, delta in events))


def test_random_sweep_runs_exactly_max_total_runs_with_bounded_concurrency(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=4)
    spec = cluster.spec(limits={"max_total_runs": 20, "max_concurrent_runs": 3},
                        trial={"function": "tests.integration.trials:sleepy"})
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=120, progress=False)
    trials = sweep.trials()
    assert final["status"] == "completed"
    assert [t["number"] for t in trials] == list(range(20))
    assert all(t["status"] == "completed" for t in trials)
    assert max_overlap(trials) <= 3
    assert max_overlap(trials) >= 2  # four worker slots: the scheduler did keep several in flight
    assert final["counts"] == {"completed": 20}
    assert len({t["params"]["x"] for t in trials}) == 20


def test_grid_sweep_runs_each_point_once(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=3)
    spec = cluster.spec(
        trial={"function": "tests.integration.trials:quick"},
        parameters={"x": {"choice": [1, 2, 3]}, "y": {"choice": ["a", "b"]}},
        sampling={"method": "grid"},
        limits={"max_concurrent_runs": 4},
    )
    spec["trial"] = {"function": "tests.integration.trials:quick", "call": "dict"}
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=60, progress=False)
    trials = sweep.trials()
    assert final["status"] == "completed" and final["reason"] == "search space exhausted"
    points = sorted((t["params"]["x"], t["params"]["y"]) for t in trials)
    assert points == [(x, y) for x in (1, 2, 3) for y in ("a", "b")]


def test_failing_trials_are_recorded_with_their_error_and_the_sweep_goes_on(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    sweep = cluster.client.submit(
        cluster.spec(trial={"function": "tests.integration.trials:flaky"}, limits={"max_total_runs": 12, "max_concurrent_runs": 2})
    )
    final = sweep.wait(timeout=60, progress=False)
    trials = sweep.trials()
    failed = [t for t in trials if t["status"] == "failed"]
    completed = [t for t in trials if t["status"] == "completed"]
    assert final["status"] == "completed" and len(trials) == 12
    assert failed and completed
    assert all(t["params"]["x"] < 0.3 for t in failed)
    assert all("ValueError" in t["error"] and "too small" in t["error"] for t in failed)
    assert all(t["value"] == pytest.approx(t["params"]["x"]) for t in completed)


def test_max_duration_ends_the_sweep_and_cancels_running_trials(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(
        trial={"function": "tests.integration.trials:endless"},
        limits={"max_total_runs": 50, "max_concurrent_runs": 2, "max_duration_minutes": 0.05},
    )
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=40, progress=False)
    trials = sweep.trials()
    assert final["status"] == "completed" and final["reason"] == "max_duration_minutes reached"
    assert final["ended"] - final["started"] < 3 + 8  # 3 s budget, then a cooperative stop at the next report
    assert {t["status"] for t in trials} == {"canceled"}
    assert all(t["reports"] > 0 for t in trials)


def test_command_trials_get_parameters_through_every_macro_and_report_from_stdout(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    script = (
        "import json, os, sys\n"
        "args = sys.argv[1:]\n"
        "print('argv', json.dumps(args))\n"
        "params = json.loads(os.environ['SWEEPQ_PARAMS'])\n"
        "from_file = json.load(open(args[-1]))\n"
        "assert from_file == params == json.loads(args[-2]), (from_file, params, args)\n"
        "assert os.environ['SWEEPQ_SWEEP_ID'] and os.environ['SWEEPQ_TRIAL_ID']\n"
        "assert args[0] == '--x=' + str(params['x'])\n"
        "assert args[2] == 'x=' + str(params['x'])\n"
        "assert args[4] == os.environ['CUSTOM']\n"
        "for step in range(1, 4):\n"
        "    print(f'epoch={step} loss={params[\"x\"] * step} ignored_name=1.5')\n"
        "print('not a metric line loss=oops')\n"
    )
    (cluster.tmp / "prog.py").write_text(script)
    spec = cluster.spec(
        trial={
            "command": ["${interpreter}", "${program}", "${args}", "${args_no_hyphens}", "${envvar:CUSTOM}",
                        "${args_json}", "${args_json_file}"],
            "program": str(cluster.tmp / "prog.py"),
            "env": {"CUSTOM": "custom-value"},
        },
        parameters={"x": {"choice": [1, 2]}, "kind": {"choice": ["adam"]}},
        sampling={"method": "grid"},
        metric={"name": "loss", "goal": "minimize"},
    )
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=60, progress=False)
    trials = sweep.trials()
    assert final["status"] == "completed", trials
    assert [t["status"] for t in trials] == ["completed", "completed"], [t["error"] for t in trials]
    reports = read_reports(cluster.client.ledger.r, cluster.client.ledger.keys, sweep.id)
    for t in trials:
        mine = [r for r in reports if r.trial == t["number"]]
        assert [r.step for r in mine] == [1, 2, 3]
        assert [r.values for r in mine] == [{"loss": t["params"]["x"] * s} for s in (1, 2, 3)]
        assert t["value"] == 3 * t["params"]["x"] and t["best"] == t["params"]["x"]
        assert any(line.startswith("argv") for line in t["log_tail"])


def test_command_trial_with_nonzero_exit_is_failed_with_code_and_log_tail(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    (cluster.tmp / "bad.py").write_text("import sys\nprint('loading data')\nprint('boom: no such file', file=sys.stderr)\nsys.exit(3)\n")
    spec = cluster.spec(trial={"command": ["${interpreter}", str(cluster.tmp / "bad.py")]},
                        limits={"max_total_runs": 1, "max_concurrent_runs": 1})
    sweep = cluster.client.submit(spec)
    sweep.wait(timeout=60, progress=False)
    [trial] = sweep.trials()
    assert trial["status"] == "failed" and trial["exit_code"] == 3
    assert "exit code 3" in trial["error"] and "boom: no such file" in trial["error"]
    assert trial["log_tail"] == ["loading data", "boom: no such file"]


def test_trial_timeout_fails_python_and_command_trials(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    limits = {"max_total_runs": 1, "max_concurrent_runs": 1, "trial_timeout_minutes": 0.03}
    python = cluster.client.submit(cluster.spec(trial={"function": "tests.integration.trials:silent"}, limits=limits))
    command = cluster.client.submit(cluster.spec(
        trial={"command": ["${interpreter}", "-c", "import time\nprint('score=1', flush=True)\ntime.sleep(60)"]}, limits=limits,
    ))
    for sweep in (python, command):
        sweep.wait(timeout=60, progress=False)
        [trial] = sweep.trials()
        assert trial["status"] == "failed" and "timed out after 0.03 minutes" in trial["error"]
        assert trial["ended"] - trial["started"] < 1.8 + 5


def test_reaching_the_metric_target_ends_the_sweep_early(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(trial={"function": "tests.integration.trials:quick"},
                        metric={"name": "score", "goal": "maximize", "target": 0.9},
                        limits={"max_total_runs": 300, "max_concurrent_runs": 2})
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=60, progress=False)
    trials = sweep.trials()
    assert final["status"] == "completed" and final["reason"] == "metric target reached"
    assert len(trials) < 300
    hits = [t for t in trials if t["value"] is not None and t["value"] >= 0.9]
    assert hits and all(t["status"] in ("completed", "canceled") for t in trials)
    first_hit = min(t["ended"] for t in hits)
    assert all(t["created"] <= first_hit + 1.0 for t in trials)  # nothing new was started after the target was met
    assert trials[0]["id"] == f"{sweep.id}/0"


def test_a_multi_objective_sweep_returns_its_pareto_front(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(trial={"function": "tests.integration.trials:two_objectives"},
                        parameters={"x": {"uniform": [0, 1]}, "y": {"uniform": [0, 1]}},
                        sampling={"method": "nsga2", "seed": 5, "population_size": 4},
                        limits={"max_total_runs": 12, "max_concurrent_runs": 2})
    del spec["metric"]
    spec["metrics"] = [{"name": "accuracy", "goal": "maximize"}, {"name": "latency_ms", "goal": "minimize"}]
    sweep = cluster.client.submit(spec)
    assert sweep.wait(timeout=60, progress=False)["status"] == "completed"
    trials = sweep.trials()
    front = sweep.best_trials()
    assert front and all(t["status"] == "completed" for t in trials)
    points = {t["number"]: (t["params"]["x"], 10 * (t["params"]["x"] + t["params"]["y"])) for t in trials}
    on_front = {t["number"] for t in front}
    for n, (acc, lat) in points.items():  # exactly the trials no other beats on both objectives
        beaten = any(a >= acc and b <= lat and (a > acc or b < lat) for m, (a, b) in points.items() if m != n)
        assert (n in on_front) == (not beaten)
    assert front[0]["objectives"]["latency_ms"] == pytest.approx(points[front[0]["number"]][1])
