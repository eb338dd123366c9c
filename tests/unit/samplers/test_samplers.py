"""Samplers: seeded reproducibility, exhaustive grids, replay from history, and TPE beating random."""

from __future__ import annotations

import statistics
from typing import Any

import pytest
from pydantic import TypeAdapter

from orchestrator.loading import load_spec
from orchestrator.samplers import TrialRecord, create_sampler
from orchestrator.space import Expression, SearchSpace
from orchestrator.space_parse import coerce_expression

ALL_EXPRESSIONS = {
    "c": {"choice": ["a", "b", "c"]},
    "cl": {"choice": [[1, 2], [3]]},
    "ri": {"randint": [5]},
    "u": {"uniform": [-1, 1]},
    "qu": {"quniform": [0, 10, 2]},
    "lu": {"loguniform": [-5, 0]},
    "qlu": {"qloguniform": [0, 3, 0.5]},
    "n": {"normal": [0, 1]},
    "qn": {"qnormal": [0, 4, 1]},
    "ln": {"lognormal": [0, 0.5]},
    "qln": {"qlognormal": [1, 0.5, 0.25]},
}


def spec(method: str, params: dict[str, Any] | None = None, **sampling: Any) -> Any:
    return load_spec(
        {
            "name": "s",
            "trial": {"function": "m:f"},
            "parameters": params or {"x": {"uniform": [-5, 5]}, "y": {"uniform": [-5, 5]}},
            "sampling": {"method": method, **sampling},
            "metric": {"name": "loss", "goal": "minimize"},
            "limits": {"max_total_runs": 50},
        }
    )


def quadratic(p: dict[str, Any]) -> float:
    return (p["x"] - 1.5) ** 2 + (p["y"] + 2.0) ** 2


def run(sampler: Any, budget: int, batch: int = 1) -> float:
    best = float("inf")
    n = 0
    while n < budget:
        asked = [(n + i, sampler.ask(n + i)) for i in range(min(batch, budget - n))]
        for number, params in asked:
            value = quadratic(params)
            best = min(best, value)
            sampler.observe(TrialRecord(number, params, "completed", value))
        n += len(asked)
    return best


def test_random_same_seed_same_sequence_other_seed_other() -> None:
    a = [create_sampler(spec("random", seed=3)).ask(i) for i in range(10)]
    b = create_sampler(spec("random", seed=3))
    assert [b.ask(i) for i in range(10)] == a
    c = create_sampler(spec("random", seed=4))
    assert [c.ask(i) for i in range(10)] != a


def test_random_trial_n_does_not_depend_on_asking_order() -> None:
    s = create_sampler(spec("random", seed=1))
    late = s.ask(7)
    assert create_sampler(spec("random", seed=1)).ask(7) == late


def test_grid_gives_each_point_exactly_once_then_ends() -> None:
    s = create_sampler(spec("grid", {"a": {"choice": [1, 2, 3]}, "b": {"choice": [16, 32]}}))
    points = [s.ask(i) for i in range(6)]
    assert len({(p["a"], p["b"]) for p in points}) == 6  # type: ignore[index]
    assert s.ask(6) is None and s.remaining() == 0


def test_grid_rebuilt_from_history_skips_points_taken() -> None:
    sp = spec("grid", {"a": {"choice": [1, 2, 3]}, "b": {"choice": [16, 32]}})
    first = create_sampler(sp)
    history = [TrialRecord(i, first.ask(i) or {}, "completed", 0.0) for i in range(4)]
    rebuilt = create_sampler(sp, history)
    rest = [rebuilt.ask(4), rebuilt.ask(5)]
    assert rebuilt.ask(6) is None
    seen = {(r.params["a"], r.params["b"]) for r in history} | {(p["a"], p["b"]) for p in rest if p}
    assert len(seen) == 6


def test_sobol_is_seeded_and_covers_the_space_evenly() -> None:
    a = create_sampler(spec("sobol", seed=5))
    pts = [a.ask(i) for i in range(64)]
    assert pts == [create_sampler(spec("sobol", seed=5)).ask(i) for i in range(64)]
    # low discrepancy: each of the 4 x 4 cells of [-5, 5]^2 holds exactly 4 of the first 64 points
    cells = [(int((p["x"] + 5) // 2.5), int((p["y"] + 5) // 2.5)) for p in pts]
    assert all(cells.count((i, j)) == 4 for i in range(4) for j in range(4))


@pytest.mark.parametrize("method", ["random", "sobol", "bayesian"])
def test_every_expression_is_accepted_and_sampled_in_its_support(method: str) -> None:
    sp = spec(method, ALL_EXPRESSIONS, seed=0)
    s = create_sampler(sp)
    adapter: TypeAdapter[Any] = TypeAdapter(Expression)
    exprs = {k: adapter.validate_python(coerce_expression(v)) for k, v in ALL_EXPRESSIONS.items()}
    for i in range(25):
        p = s.ask(i)
        assert p is not None and set(p) == set(ALL_EXPRESSIONS)
        assert p["c"] in ("a", "b", "c") and p["cl"] in ([1, 2], [3]) and p["ri"] in range(5)
        assert -1 <= p["u"] <= 1 and p["qu"] % 2 == 0 and p["ln"] > 0 and p["qln"] % 0.25 == 0
        s.observe(TrialRecord(i, p, "completed", float(i % 7)))
    assert SearchSpace(exprs).names == list(ALL_EXPRESSIONS)


def test_tpe_beats_random_on_a_quadratic_with_the_same_budget_and_seeds() -> None:
    tpe = [run(create_sampler(spec("bayesian", seed=s, n_startup_trials=10)), 60) for s in range(5)]
    rnd = [run(create_sampler(spec("random", seed=s)), 60) for s in range(5)]
    assert statistics.mean(tpe) < statistics.mean(rnd) / 2, (tpe, rnd)


def test_constant_liar_spreads_parallel_asks() -> None:
    s = create_sampler(spec("bayesian", seed=0, n_startup_trials=5))
    run(s, 20)
    batch = [s.ask(100 + i) for i in range(4)]  # four trials in flight, none told yet
    assert len({(round(p["x"], 6), round(p["y"], 6)) for p in batch}) == 4


def test_bayesian_rebuilt_from_history_keeps_learning() -> None:
    sp = spec("bayesian", seed=2, n_startup_trials=5)
    first = create_sampler(sp)
    history = []
    for i in range(30):
        p = first.ask(i)
        history.append(TrialRecord(i, p, "completed", quadratic(p)))
    history.append(TrialRecord(30, first.ask(30), "running"))
    history.append(TrialRecord(31, {"x": 0.0, "y": 0.0}, "failed"))
    history.append(TrialRecord(32, {"x": 9.0}, "completed", 1.0, source="other"))  # unusable: ignored
    rebuilt = create_sampler(sp, history)
    assert len(rebuilt.study.trials) == 32  # type: ignore[attr-defined]
    rebuilt.observe(TrialRecord(30, history[30].params, "stopped", 0.5))
    assert rebuilt.study.trials[30].value == 0.5  # type: ignore[attr-defined]
    after = [quadratic(rebuilt.ask(40 + i)) for i in range(10)]  # type: ignore[arg-type]
    assert statistics.median(after) < statistics.median([quadratic(h.params) for h in history[:10]])
