"""A constrained sweep on real Redis and workers: infeasible trials are flagged and never the best."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


def test_a_constrained_sweep_never_returns_an_infeasible_best(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(
        trial={"function": "tests.integration.trials:two_objectives"},
        parameters={"x": {"uniform": [0, 1]}, "y": {"uniform": [0, 1]}},
        sampling={"method": "bayesian", "seed": 3, "n_startup_trials": 4},
        metric={"name": "accuracy", "goal": "maximize"},
        constraints=[{"metric": "latency_ms", "max": 5}],  # feasible: x + y <= 0.5, so accuracy <= 0.5
        limits={"max_total_runs": 12, "max_concurrent_runs": 2},
    )
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=120, progress=False)
    trials = sweep.trials()
    assert final["status"] == "completed" and len(trials) == 12
    for t in trials:  # the flag follows the recorded constrained metric
        assert t["feasible"] == (t["final_metrics"]["latency_ms"] <= 5), t
    infeasible = [t for t in trials if t["feasible"] is False]
    assert infeasible, "the space is mostly infeasible: some trial must have broken the constraint"
    best = sweep.best_trial()
    assert best is not None and best["feasible"] is True and best["final_metrics"]["latency_ms"] <= 5
    feasible_values = [t["value"] for t in trials if t["feasible"]]
    assert best["value"] == max(feasible_values)
    assert final["best"] is not None and final["best"]["number"] == best["number"], final  # the running best agrees
    assert max(t["value"] for t in trials) > best["value"]  # the unconstrained best was infeasible, and excluded
