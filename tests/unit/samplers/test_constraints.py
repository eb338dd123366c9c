"""Constraints: validated in the spec, recorded as extra metrics, feasibility from final metrics, infeasible trials
never the best, and told to TPE as infeasible."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.loading import SpecError, load_spec
from orchestrator.ranking import Ranking
from orchestrator.runtime import to_record
from orchestrator.samplers import TrialRecord, create_sampler
from orchestrator.samplers.bayesian import BayesianSampler


def spec(constraints: Any, method: str = "bayesian", metric: Any = None) -> Any:
    return load_spec({
        "name": "s", "trial": {"function": "m:f"}, "parameters": {"x": {"uniform": [0, 1]}},
        "sampling": {"method": method}, "limits": {"max_total_runs": 10},
        "metric": metric if metric is not None else {"name": "acc", "goal": "max"}, "constraints": constraints,
    })


def test_constraint_metrics_are_recorded_and_the_spec_round_trips() -> None:
    s = spec([{"metric": "latency_ms", "max": 50}, {"metric": "acc", "min": 0.1}])
    assert s.metric.extra == ("latency_ms",)
    assert load_spec(s.model_dump(mode="json")) == s


@pytest.mark.parametrize(
    ("constraints", "message"),
    [
        ([{"metric": "lat"}], "needs min, max or both"),
        ([{"metric": "lat", "min": 2, "max": 1}], "min .* is above max"),
        ([{"metric": "lat", "max": "inf"}], "finite"),
    ],
)
def test_bad_constraints_are_refused(constraints: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        spec(constraints)


def test_constraints_need_a_metric() -> None:
    with pytest.raises(SpecError, match="constraints bound reported metrics"):
        load_spec({
            "name": "s", "trial": {"function": "m:f"}, "parameters": {"x": {"uniform": [0, 1]}},
            "limits": {"max_total_runs": 3}, "constraints": [{"metric": "lat", "max": 1}],
        })


def _trial(n: int, value: float, lat: float | None, status: str = "completed") -> dict[str, Any]:
    finals = {"acc": value} | ({} if lat is None else {"latency_ms": lat})
    return {"number": n, "status": status, "params": {"x": 0.5}, "value": value, "best": value, "final_metrics": finals}


def test_infeasible_trials_never_rank_but_samplers_learn_their_value() -> None:
    ranking = Ranking.of(spec([{"metric": "latency_ms", "max": 50}]).metric)
    assert ranking is not None
    trials = [_trial(0, 0.99, 80.0), _trial(1, 0.7, 20.0), _trial(2, 0.95, None), _trial(3, 0.5, 50.0)]
    assert [ranking.feasible(t) for t in trials] == [False, True, False, True]
    assert ranking.pick([(v, t) for t in trials if (v := ranking.score(t)) is not None])["number"] == 1
    assert ranking.learned(trials[0]) == 0.99
    assert ranking.violations(trials[0]) == (30.0,) and ranking.violations(trials[3]) == (0.0,)
    assert ranking.feasible(_trial(4, 0.1, 90.0, status="running")) is None  # undecided until it ends
    record = to_record(trials[0], ranking=ranking)
    assert record.constraints == (30.0,) and record.value == 0.99


def test_tpe_is_told_the_violations() -> None:
    sampler = create_sampler(spec([{"metric": "latency_ms", "max": 50}]))
    assert isinstance(sampler, BayesianSampler)
    p = sampler.ask(0)
    sampler.observe(TrialRecord(0, p, "completed", 0.9, constraints=(3.0,)))
    sampler.observe(TrialRecord(1, {"x": 0.2}, "completed", 0.5, constraints=(-1.0,)))
    told = sampler.study.get_trials(deepcopy=False)
    assert [t.constraints for t in told] == [{"0": 3.0}, {"0": -1.0}]
    assert sampler.study.best_trial.number == 1  # Optuna, too, ranks the infeasible trial out


def test_an_optuna_export_keeps_infeasible_trials_valued_and_marked() -> None:
    from orchestrator.export import to_frozen_trials

    s = spec([{"metric": "latency_ms", "max": 50}])
    frozen = to_frozen_trials(s, [_trial(0, 0.99, 80.0), _trial(1, 0.7, 20.0)], [])
    assert [(t.value, t.constraints) for t in frozen] == [(0.99, {"0": 30.0}), (0.7, {"0": -30.0})]


def test_the_trials_table_shows_feasibility_only_for_constrained_sweeps() -> None:
    from rich.console import Console

    from orchestrator.progress import trials_table

    def render(rows: list[dict[str, Any]]) -> str:
        console = Console(width=200, record=True)
        console.print(trials_table(rows, "acc"))
        return console.export_text()

    rows = [_trial(0, 0.9, 80.0) | {"feasible": False}, _trial(1, 0.5, 9.0) | {"feasible": True}]
    text = render(rows)
    assert "feasible" in text and "NO" in text and "yes" in text
    assert "feasible" not in render([_trial(0, 0.9, 80.0)])
