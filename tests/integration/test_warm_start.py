"""Warm start and resumed child trials on real Redis and workers."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


def grid_spec(cluster: Cluster, values: list[float], **kw: object) -> dict:
    return cluster.spec(
        trial={"function": "tests.integration.trials:curve_up"},
        parameters={"x": {"choice": values}, "pause": {"choice": [0.05]}},
        sampling={"method": "grid"},
        limits={"max_concurrent_runs": 1},
        **kw,
    )


def test_a_warm_started_grid_skips_evaluated_points_and_its_policy_sees_earlier_curves(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    first = cluster.client.submit(grid_spec(cluster, [1.0, 0.9]))
    first.wait(timeout=60, progress=False)
    policy = {"policy": "bandit", "slack_factor": 0.5}
    second = cluster.client.submit(grid_spec(cluster, [1.0, 0.9, 0.5, 0.6], early_termination=policy, resume_from=[first.id]))
    final = second.wait(timeout=60, progress=False)
    trials = second.trials()
    assert final["status"] == "completed" and final["reason"] == "search space exhausted"
    assert [t["params"]["x"] for t in trials] == [0.5, 0.6]  # 1.0 and 0.9 were evaluated by the first sweep
    # Cold, trial 0 (x=0.5) would be the only run and never stopped; warm, the earlier x=1.0 curve sets B = 1
    # at interval 1, and 0.5 < 1 / 1.5.
    assert {d["trial"]: d["interval"] for d in second.decisions() if d["stop"]} == {0: 1, 1: 1}


def test_warm_start_needs_the_same_metric_and_goal(cluster: Cluster) -> None:
    first = cluster.client.submit(grid_spec(cluster, [1.0]))
    other = grid_spec(cluster, [1.0], resume_from=[first.id])
    other["metric"] = {"name": "score", "goal": "minimize"}
    with pytest.raises(ValueError, match="same metric and goal"):
        cluster.client.submit(other)


SCRIPT = """
import argparse, json, os, time
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
parser.add_argument("--resume-from", default=None)
args = parser.parse_args()
out = os.environ["SWEEPQ_OUTPUT_DIR"]
start = json.load(open(os.path.join(args.resume_from, "ckpt.json")))["step"] if args.resume_from else 0
for step in range(start + 1, 11):
    time.sleep(0.4)
    with open(os.path.join(out, "ckpt.tmp"), "w") as f:  # a write and a rename: a cancel never tears it
        json.dump({"step": step}, f)
    os.replace(os.path.join(out, "ckpt.tmp"), os.path.join(out, "ckpt.json"))
    print(f"step={step} score={args.x * step}", flush=True)
"""


def test_a_resumed_child_trial_continues_from_its_checkpoint(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    (cluster.tmp / "ckpt.py").write_text(SCRIPT)
    trial = {"command": ["${interpreter}", str(cluster.tmp / "ckpt.py"), "${args}"]}
    first = cluster.client.submit(cluster.spec(trial=trial, parameters={"x": {"choice": [0.5]}}, sampling={"method": "grid"},
                                               limits={"max_duration_minutes": 0.04}))
    first.wait(timeout=60, progress=False)
    [interrupted] = first.trials()
    checkpoint = json.loads((cluster.tmp / "artifacts" / first.id / "trial-0" / "ckpt.json").read_text())["step"]
    assert interrupted["status"] == "canceled" and 1 <= checkpoint < 10

    second = cluster.client.submit(cluster.spec(trial=trial, parameters={"x": {"choice": [0.5, 0.7]}},
                                                sampling={"method": "grid"}, resume_child_runs=[f"{first.id}/0"]))
    second.wait(timeout=60, progress=False)
    resumed = second.trials()[0]
    assert resumed["params"] == {"x": 0.5} and resumed["status"] == "completed"
    steps = [r["step"] for r in second.metrics(0)]
    assert steps == list(range(checkpoint + 1, 11))  # it went on from its checkpoint, not from step 1
    assert [t["params"]["x"] for t in second.trials()] == [0.5, 0.7]
