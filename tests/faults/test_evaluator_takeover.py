"""An evaluator killed just before a sweep ends: the next one to lead still applies the sweep's last reports,
so every report gets its decision once even though the sweep was no longer running when it took over."""

from __future__ import annotations

import pytest

from tests.faults.scenarios import SLOW, SLOW_STEPS, kill_group, unevaluated
from tests.integration.conftest import Cluster, wait_until

pytestmark = pytest.mark.integration


def test_a_sweep_that_ended_without_an_evaluator_gets_its_last_decisions_from_the_next_one(cluster: Cluster) -> None:
    cluster.env["SWEEPQ_KEEP_CONTINUE_DECISIONS"] = "true"  # continues listed too: each decision checked once
    cluster.spawn("scheduler", "--no-evaluator", log="scheduler.log")
    first = cluster.spawn("evaluator", log="evaluator-1.log")
    cluster.worker(2)
    policy = {"policy": "bandit", "slack_factor": 100, "evaluation_interval": 1}  # evaluates every report, stops none
    spec = cluster.spec(trial={"function": SLOW}, early_termination=policy, limits={"max_total_runs": 4})
    sweep = cluster.client.submit(spec)
    wait_until(lambda: len(sweep.decisions()) >= 3, 90, "the first decisions")
    kill_group(first)
    assert sweep.wait(timeout=90, progress=False)["status"] == "completed"
    missed = unevaluated(cluster, sweep)
    assert missed > 0  # the sweep went on reporting with no evaluator
    decided = len(sweep.decisions())
    cluster.spawn("evaluator", log="evaluator-2.log")
    wait_until(lambda: unevaluated(cluster, sweep) == 0, 60, "the new evaluator to apply the ended sweep's reports")
    decisions = sweep.decisions()
    assert len(decisions) > decided
    assert len({(d["trial"], d["attempt"], d["interval"]) for d in decisions}) == len(decisions) <= 4 * SLOW_STEPS
