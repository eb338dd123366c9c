"""gp, cmaes, qmc, TPE's group option and auto: every expression supported or refused at validation, rebuilt from
history, and the auto rule."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from orchestrator.loading import SpecError, load_spec
from orchestrator.samplers import TrialRecord, auto_method, create_sampler
from orchestrator.samplers.auto import choose, gp_available
from orchestrator.samplers.cmaes import CmaEsSampler
from orchestrator.space import SearchSpace
from tests.unit.samplers.test_samplers import ALL_EXPRESSIONS

NUMERIC = {k: v for k, v in ALL_EXPRESSIONS.items() if k not in ("c", "cl")}
needs_torch = pytest.mark.skipif(not gp_available(), reason="gp sampling needs the gp extra (torch)")


def spec(sampling: dict[str, Any], params: dict[str, Any] | None = None, runs: int = 50, **extra: Any) -> Any:
    return load_spec(
        {
            "name": "s",
            "trial": {"function": "m:f"},
            "parameters": params or {"x": {"uniform": [-5, 5]}, "y": {"uniform": [-5, 5]}},
            "sampling": sampling,
            "metric": {"name": "loss", "goal": "minimize"},
            "limits": {"max_total_runs": runs},
            **extra,
        }
    )


def _in_space(params: dict[str, Any], space: SearchSpace) -> None:
    assert set(params) == set(space.names)


def _drive(s: Any, n: int) -> list[dict[str, Any]]:
    sampler, asked = create_sampler(s), []
    for i in range(n):
        p = sampler.ask(i)
        asked.append(p)
        sampler.observe(TrialRecord(i, p, "completed", float(sum(v for v in p.values() if isinstance(v, int | float)))))
    return asked


@pytest.mark.parametrize(
    ("sampling", "params"),
    [
        ({"method": "cmaes", "seed": 1}, NUMERIC),
        ({"method": "cmaes", "seed": 1, "with_margin": True}, NUMERIC),
        ({"method": "qmc", "seed": 1, "qmc_type": "halton"}, ALL_EXPRESSIONS),
        ({"method": "qmc", "seed": 1}, ALL_EXPRESSIONS),
        ({"method": "bayesian", "seed": 1, "multivariate": True, "group": True, "n_startup_trials": 3}, ALL_EXPRESSIONS),
        ({"method": "auto", "seed": 1}, ALL_EXPRESSIONS),
    ],
)
def test_every_supported_expression_gives_values_of_the_space(sampling: dict[str, Any], params: dict[str, Any]) -> None:
    s = spec(sampling, params)
    for p in _drive(s, 12):
        _in_space(p, s.space)
        assert p["ri"] in range(5) and 0 <= p["qu"] <= 10 and p["ln"] > 0


@needs_torch
def test_gp_accepts_every_expression_and_beats_random_on_a_bowl() -> None:
    s = spec({"method": "gp", "seed": 0, "n_startup_trials": 5}, ALL_EXPRESSIONS, runs=20)
    for p in _drive(s, 8):
        _in_space(p, s.space)

    def best(sampling: dict[str, Any]) -> float:
        sampler, best_value = create_sampler(spec(sampling)), float("inf")
        for i in range(20):
            p = sampler.ask(i)
            value = p["x"] ** 2 + p["y"] ** 2
            best_value = min(best_value, value)
            sampler.observe(TrialRecord(i, p, "completed", value))
        return best_value

    gp = statistics.median(best({"method": "gp", "seed": k, "n_startup_trials": 5}) for k in range(3))
    rnd = statistics.median(best({"method": "random", "seed": k}) for k in range(3))
    assert gp < rnd


def test_cmaes_refuses_a_choice_naming_the_parameter() -> None:
    with pytest.raises(SpecError, match=r"parameters\.c: choice\('a', 'b', 'c'\) is categorical"):
        spec({"method": "cmaes"}, {"c": {"choice": ["a", "b", "c"]}, "x": {"uniform": [0, 1]}})


def test_cmaes_refuses_several_objectives_and_constraints() -> None:
    with pytest.raises(SpecError, match="cmaes optimizes one objective"):
        load_spec({
            "name": "s", "trial": {"function": "m:f"}, "parameters": {"x": {"uniform": [0, 1]}},
            "sampling": {"method": "cmaes"}, "limits": {"max_total_runs": 5},
            "metrics": [{"name": "a", "goal": "min"}, {"name": "b", "goal": "max"}],
        })
    with pytest.raises(SpecError, match="constraints: cmaes sampling cannot learn from constraints"):
        spec({"method": "cmaes"}, constraints=[{"metric": "lat", "max": 1}])


def test_tpe_group_needs_multivariate() -> None:
    with pytest.raises(SpecError, match="group: true needs multivariate: true"):
        spec({"method": "bayesian", "group": True})


def test_gp_without_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import orchestrator.samplers.auto as auto

    monkeypatch.setattr(auto, "gp_available", lambda: False)
    with pytest.raises(SpecError, match=r"gp needs PyTorch.*sweepq\[gp\]"):
        spec({"method": "gp"})
    assert auto_method(spec({"method": "auto"}, runs=30)) == "bayesian"  # auto never picks an unavailable sampler


def test_qmc_is_a_function_of_seed_and_number_only() -> None:
    s = spec({"method": "qmc", "seed": 3, "qmc_type": "halton"})
    a, b = create_sampler(s), create_sampler(s)
    late = b.ask(7)
    assert [a.ask(i) for i in range(8)][7] == late
    assert len({tuple(a.ask(i).values()) for i in range(8)}) == 8


def test_cmaes_rebuilt_from_history_warm_starts_near_the_best_trials() -> None:
    s = spec({"method": "cmaes", "seed": 0})
    history = [TrialRecord(i, {"x": 4 + i / 100, "y": 4 - i / 100}, "completed", float(i)) for i in range(20)]
    sampler = create_sampler(s, history)
    assert isinstance(sampler, CmaEsSampler)
    points = [sampler.ask(100 + i) for i in range(6)]
    assert statistics.mean(p["x"] for p in points) > 2  # fitted to the replayed best (x near 4), not the centre (0)


def test_auto_rule() -> None:
    numeric = SearchSpace({"x": load_spec_expr({"uniform": [0, 1]})})
    mixed = SearchSpace({"x": load_spec_expr({"uniform": [0, 1]}), "c": load_spec_expr({"choice": [1, 2]})})
    assert choose(numeric, 50, gp_ok=True) == "gp"
    assert choose(mixed, 50, gp_ok=True) == "gp"
    assert choose(numeric, 500, gp_ok=True) == "cmaes"
    assert choose(numeric, None, gp_ok=True) == "cmaes"  # a sweep bound by time only
    assert choose(numeric, 500, constrained=True, gp_ok=True) == "bayesian"
    assert choose(numeric, 500, objectives=2, gp_ok=True) == "bayesian"
    assert choose(mixed, 500, gp_ok=True) == "bayesian"
    assert choose(numeric, 50, gp_ok=False) == "bayesian"


def load_spec_expr(raw: dict[str, Any]) -> Any:
    return spec({"method": "random"}, {"p": raw}).space.expressions["p"]


def test_validate_says_what_auto_picks() -> None:
    from rich.console import Console

    from orchestrator.summary import spec_summary

    console = Console(width=200, record=True)
    console.print(spec_summary(spec({"method": "auto", "seed": 1}, runs=500)))
    assert "auto -> cmaes" in console.export_text()
