"""Population-based training on real Redis and workers: exploited members are replaced by copies of better ones that
continue from the copied checkpoint with explored parameters, and a worker killed mid-run loses no member."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.integration.conftest import Cluster, kill_group, wait_until

pytestmark = pytest.mark.integration

EPOCHS = 9  # not a multiple of the interval: a member exploited at its last report would have nothing to continue
LR_BOUNDS = (math.exp(-6.9), math.exp(-0.7))
MOMENTUM_BOUNDS = (0.0, 0.95)


def pbt_spec(cluster: Cluster, size: int, **population: Any) -> dict[str, Any]:
    return cluster.spec(
        name="pbt",
        trial={"function": "examples.pbt_digits:train"},
        parameters={
            "learning_rate": {"loguniform": [-6.9, -0.7]}, "momentum": {"uniform": [0.0, 0.95]},
            "hidden": {"choice": [8]}, "epochs": {"choice": [EPOCHS]}, "epoch_seconds": {"choice": [0.25]},
        },
        metric={"name": "accuracy", "goal": "maximize"},
        population={"policy": "pbt", "size": size, "perturbation_interval": 2, "quantile_fraction": 0.25,
                    "resample_probability": 0.0, "seed": 3, **population},
        limits={"max_retries": 2, "trial_timeout_minutes": 5},
    )


def explored(after: float, before: float, bounds: tuple[float, float]) -> bool:
    """x0.8 or x1.2, clipped to the bounds."""
    return any(after == pytest.approx(min(max(before * f, bounds[0]), bounds[1])) for f in (0.8, 1.2))


def steps(sweep: Any, trial: int) -> list[int]:
    return [m["step"] for m in sweep.metrics(trial) if m["attempt"] == 1]


def test_exploited_members_continue_from_the_donors_checkpoint_with_explored_parameters(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=4)
    sweep = cluster.client.submit(pbt_spec(cluster, size=4))
    status = sweep.wait(timeout=240, progress=False)
    assert status["status"] == "completed", status
    trials = {t["number"]: t for t in sweep.trials()}
    members = [t for t in trials.values() if t.get("lineage")]
    assert members, "no member was exploited"
    assert len([t for t in trials.values() if not t.get("lineage")]) == 4  # the sampled population
    exploits = sweep.exploits()
    assert sorted(e["member"] for e in exploits if "member" in e) == sorted(m["number"] for m in members)
    # an exploit without a member: only when its victim had ended by itself (it reported its last epoch)
    assert all(trials[e["replaces"]]["status"] == "completed" for e in exploits if "member" not in e)
    for m in members:
        lineage, parent = m["lineage"], trials[m["lineage"]["parent"]]
        assert trials[lineage["replaces"]]["status"] in ("stopped", "completed")
        assert lineage["params_before"] == trials[lineage["replaces"]]["params"]
        assert lineage["parent_params"] == parent["params"] and m["params"] == lineage["params_after"]
        p, before = m["params"], parent["params"]
        assert explored(p["learning_rate"], before["learning_rate"], LR_BOUNDS), (p, before)
        assert explored(p["momentum"], before["momentum"], MOMENTUM_BOUNDS), (p, before)
        own, donor = steps(sweep, m["number"]), steps(sweep, parent["number"])
        if not own:  # the donor's copied checkpoint was already at the last epoch
            continue
        # the member continues the donor's step count: from a checkpoint the donor wrote at or after the decision
        assert own == list(range(own[0], own[0] + len(own)))
        assert own[-1] == EPOCHS or m["status"] == "stopped"  # unless exploited in turn
        assert own[0] - 1 >= donor[lineage["parent_reports"] - 1] >= 1, (own, donor, lineage)
        assert own[0] - 1 in donor
    best = sweep.best_trial()
    assert best is not None and best["schedule"][-1]["trial"] == best["number"]
    assert best["schedule"][0]["from_step"] == 1  # the chain goes back to a sampled member
    for earlier, later in zip(best["schedule"], best["schedule"][1:], strict=False):
        assert trials[later["trial"]]["lineage"]["parent"] == earlier["trial"]


def test_a_worker_killed_mid_pbt_loses_no_member(cluster: Cluster) -> None:
    cluster.scheduler()
    doomed = cluster.worker(concurrency=2)
    cluster.worker(concurrency=2)
    sweep = cluster.client.submit(pbt_spec(cluster, size=4, perturbation_interval=3))

    def running_reports() -> bool:
        trials = sweep.trials()
        return sum(t["status"] == "running" for t in trials) == 4 and len(sweep.metrics()) >= 4

    wait_until(running_reports, 120, "four members reporting")
    kill_group(doomed)
    cluster.worker(concurrency=2)
    status = sweep.wait(timeout=240, progress=False)
    assert status["status"] == "completed", status
    trials = sweep.trials()
    assert not [t for t in trials if t["status"] == "failed"], trials
    retried = [t for t in trials if t["attempt"] > 1]
    assert retried, "the killed worker ran no member"
    for t in retried:  # a retried member resumed from its own checkpoint and reached the last epoch
        second = [m["step"] for m in sweep.metrics(t["number"]) if m["attempt"] == t["attempt"]]
        assert t["status"] == "stopped" or (second and second[-1] == EPOCHS), (t, second)
    assert len([t for t in trials if not t.get("lineage")]) == 4
    stopped = {t["number"] for t in trials if t["status"] == "stopped"}
    replaced = {e["replaces"] for e in sweep.exploits() if "member" in e}
    assert stopped <= replaced  # every member stopped by PBT has its replacement: the population stays at size


def test_a_scheduler_killed_mid_pbt_starts_each_exploit_once(cluster: Cluster) -> None:
    first = cluster.scheduler()  # the scheduler runs the evaluator too: both are killed and replaced
    cluster.worker(concurrency=4)
    sweep = cluster.client.submit(pbt_spec(cluster, size=4))
    wait_until(lambda: sweep.exploits(), 120, "a first exploit")
    kill_group(first)
    cluster.scheduler()
    status = sweep.wait(timeout=240, progress=False)
    assert status["status"] == "completed", status
    trials = sweep.trials()
    members = sorted(t["number"] for t in trials if t.get("lineage"))
    assert sorted(e["member"] for e in sweep.exploits() if "member" in e) == members  # one member per exploit
    assert len([t for t in trials if not t.get("lineage")]) == 4
    assert not [t for t in trials if t["status"] == "failed"]

