"""Multi-objective sweeps: the spec, the samplers' multi-objective mode and the Pareto front (pure)."""

from __future__ import annotations

import pytest

from orchestrator.loading import SpecError, load_spec
from orchestrator.pareto import dominates, pareto_front
from orchestrator.ranking import Ranking
from orchestrator.runtime import objective_values
from orchestrator.samplers import TrialRecord, create_sampler

BASE = {"name": "mo", "trial": {"function": "m:f"}, "parameters": {"x": {"uniform": [0, 1]}, "y": {"uniform": [0, 1]}},
        "limits": {"max_total_runs": 30}}
METRICS = [{"name": "accuracy", "goal": "maximize"}, {"name": "latency_ms", "goal": "minimize"}]


def test_metrics_lists_the_objectives_and_the_first_is_the_primary_metric() -> None:
    spec = load_spec({**BASE, "metrics": METRICS, "sampling": {"method": "nsga2", "seed": 1}})
    assert [(o.name, o.goal) for o in spec.objectives] == [("accuracy", "maximize"), ("latency_ms", "minimize")]
    assert spec.metric.name == "accuracy" and spec.metric.extra == ("latency_ms",)
    with pytest.raises(SpecError, match="not both"):
        load_spec({**BASE, "metrics": METRICS, "metric": {"name": "loss", "goal": "minimize"}})
    with pytest.raises(SpecError, match="two or more"):
        load_spec({**BASE, "metrics": METRICS[:1]})


def test_pareto_front_follows_each_goal() -> None:
    goals = ["maximize", "minimize"]
    assert dominates([0.9, 10], [0.8, 12], goals) and not dominates([0.9, 12], [0.8, 10], goals)
    items = [("a", [0.9, 20.0]), ("b", [0.8, 10.0]), ("c", [0.7, 15.0]), ("d", [0.9, 20.0])]
    assert pareto_front(items, goals) == ["a", "b", "d"]


def test_objective_values_come_from_the_final_value_and_final_metrics() -> None:
    record = {"status": "completed", "value": 0.9, "final_metrics": {"latency_ms": 12.0}}
    assert objective_values(record, ["accuracy", "latency_ms"], Ranking("maximize")) == (0.9, 12.0)
    assert objective_values({"status": "completed", "value": 0.9}, ["accuracy", "latency_ms"], Ranking()) is None


@pytest.mark.parametrize("method", ["nsga2", "bayesian"])
def test_multi_objective_samplers_learn_from_value_pairs(method: str) -> None:
    spec = load_spec({**BASE, "metrics": METRICS, "sampling": {"method": method, "seed": 3}})
    sampler = create_sampler(spec)
    for n in range(12):
        params = sampler.ask(n)
        assert params is not None and 0 <= params["x"] <= 1
        sampler.observe(TrialRecord(n, params, "completed", params["x"], values=(params["x"], 10 * (params["x"] + params["y"]))))
    study = sampler.study  # type: ignore[attr-defined]
    assert len(study.directions) == 2 and len([t for t in study.trials if t.values]) == 12
    assert study.best_trials  # Optuna's own Pareto front over what it was told
