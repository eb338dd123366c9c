"""PBT's exploit/explore rule, checked against hand-computed rankings for both goals and NaN."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from orchestrator.population import Pbt, create_population, perturb, rank
from orchestrator.space import Choice, LogUniform, Normal, QUniform, RandInt, Uniform
from orchestrator.spec import SweepSpec

LATEST = {0: 0.9, 1: 0.5, 2: 0.7, 3: math.nan, 4: 0.8, 5: 0.6, 6: 0.95, 7: 0.4}


def test_rank_is_goal_aware_with_nan_last_and_ties_by_number() -> None:
    assert rank(LATEST, "maximize") == [6, 0, 4, 2, 5, 1, 7, 3]
    assert rank(LATEST, "minimize") == [7, 1, 5, 2, 4, 0, 6, 3]
    assert rank({2: 1.0, 1: 1.0}, "maximize") == [1, 2]


def test_maximize_bottom_quarter_copies_a_top_quarter_member() -> None:
    pbt = Pbt("maximize", perturbation_interval=4, quantile_fraction=0.25)
    # 8 members: k = ceil(8 x 0.25) = 2; bottom = {7 (0.4), 3 (NaN)}, top = {6, 0}
    for trial in (7, 3):
        e = pbt.decide(trial, 4, LATEST)
        assert e is not None and e.trial == trial and e.interval == 4 and e.donor in (6, 0)
        assert e.donor_value == LATEST[e.donor]
    assert pbt.decide(1, 4, LATEST) is None  # third from the bottom: kept
    assert pbt.decide(6, 4, LATEST) is None


def test_minimize_reverses_the_ranking() -> None:
    pbt = Pbt("minimize", perturbation_interval=2, quantile_fraction=0.25)
    # best are 7 (0.4) and 1 (0.5); worst are 3 (NaN) and 6 (0.95)
    e = pbt.decide(6, 2, LATEST)
    assert e is not None and e.donor in (7, 1)
    assert pbt.decide(3, 2, LATEST) is not None
    assert pbt.decide(7, 2, LATEST) is None
    assert pbt.decide(0, 2, LATEST) is None  # 0.9 is third worst


def test_only_at_perturbation_intervals_and_never_alone() -> None:
    pbt = Pbt("maximize", perturbation_interval=4, quantile_fraction=0.5)
    assert pbt.decide(7, 3, LATEST) is None and pbt.decide(7, 0, LATEST) is None
    assert pbt.decide(7, 8, LATEST) is not None
    assert pbt.decide(0, 4, {0: 0.1}) is None  # k = min(1, 1 // 2) = 0
    assert pbt.decide(9, 4, LATEST) is None  # not a live member
    e = pbt.decide(0, 4, {0: 0.1, 1: 0.2})  # two members: the worse copies the better
    assert e is not None and e.donor == 1


def test_decision_and_exploration_are_reproducible_per_seed() -> None:
    a, b = Pbt("maximize", 4, 0.5, seed=1), Pbt("maximize", 4, 0.5, seed=1)
    donors = {a.decide(7, 4 * i, LATEST).donor for i in range(1, 30)}  # type: ignore[union-attr]
    assert donors == {6, 0, 4, 2}  # drawn among the top half
    e = a.decide(7, 4, LATEST)
    assert e == b.decide(7, 4, LATEST)
    space = {"lr": Uniform(low=0.0, high=1.0)}
    assert e is not None and a.explore({"lr": 0.5}, space, e) == b.explore({"lr": 0.5}, space, e)


def test_explore_perturbs_by_point_eight_or_one_point_two_within_bounds() -> None:
    pbt = Pbt("maximize", 1, 0.5, resample_probability=0.0)
    space = {"lr": LogUniform(low=math.log(1e-4), high=math.log(1.0)), "m": Uniform(low=0.0, high=0.99),
             "w": Normal(mu=0.0, sigma=1.0), "k": Choice(values=[8, 16, 32]), "fixed": Choice(values=["a"])}
    params = {"lr": 0.1, "m": 0.95, "w": -2.0, "k": 16, "fixed": "a", "extra": 3}
    seen_m, seen_k = set(), set()
    for interval in range(1, 40):
        e = pbt.decide(0, interval, {0: 0.1, 1: 0.2})
        assert e is not None
        out = pbt.explore(params, space, e)
        assert out["lr"] == pytest.approx(0.08) or out["lr"] == pytest.approx(0.12)
        assert out["w"] in (pytest.approx(-1.6), pytest.approx(-2.4))  # the normal family is unbounded
        seen_m.add(round(out["m"], 6))
        seen_k.add(out["k"])
        assert out["fixed"] == "a" and out["extra"] == 3
    assert seen_m == {0.76, 0.99}  # 0.95 x 1.2 = 1.14 is clipped to the upper bound 0.99
    assert seen_k == {8, 32}  # the neighbours of 16


def test_perturb_edges_integers_and_quantized() -> None:
    rng = __import__("random").Random(0)
    assert perturb(8, Choice(values=[8, 16, 32]), rng) == 16  # first value: its only neighbour
    assert perturb(32, Choice(values=[8, 16, 32]), rng) == 16
    for _ in range(20):
        assert perturb(5, RandInt(upper=6), rng) in (4, 5)  # 6 is clipped to upper - 1 = 5
        assert perturb(64, QUniform(low=16, high=128, q=16), rng) in (48, 80)  # 51.2 -> 48, 76.8 -> 80


def test_resample_probability_one_redraws_from_the_expression() -> None:
    pbt = Pbt("maximize", 1, 0.5, resample_probability=1.0)
    space = {"m": Uniform(low=0.0, high=0.5)}
    values = set()
    for interval in range(1, 20):
        e = pbt.decide(0, interval, {0: 0.1, 1: 0.2})
        assert e is not None
        m = pbt.explore({"m": 0.4}, space, e)["m"]
        assert 0.0 <= m <= 0.5
        values.add(m)
    assert not values & {0.32, 0.48} and len(values) > 10


BASE = {
    "name": "p", "trial": {"function": "examples.pbt_digits:train"}, "parameters": {"lr": {"uniform": [0.0, 1.0]}},
    "metric": {"name": "accuracy", "goal": "maximize"},
}


def test_spec_section_builds_the_policy_and_bounds_the_sweep() -> None:
    spec = SweepSpec.model_validate({**BASE, "population": {"policy": "pbt", "size": 4, "perturbation_interval": 2}})
    assert spec.population is not None and spec.limits.max_total_runs is None  # the population bounds the sweep
    policy = create_population(spec.population, "maximize")
    assert isinstance(policy, Pbt) and policy.perturbation_interval == 2 and policy.quantile_fraction == 0.25


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"metric": None}, "ranks members by a metric"),
        ({"early_termination": {"policy": "median"}}, "remove early_termination"),
        ({"limits": {"max_concurrent_runs": 3}}, "is the sweep's concurrency"),
        ({"population": {"policy": "pbt", "size": 4, "perturbation_interval": 2, "quantile_fraction": 0.7}}, "0.5"),
        ({"population": {"policy": "pb2", "size": 4, "perturbation_interval": 2}}, "population"),
    ],
)
def test_spec_refuses_what_pbt_cannot_run(extra: dict[str, object], message: str) -> None:
    data = {**BASE, "population": {"policy": "pbt", "size": 4, "perturbation_interval": 2}, **extra}
    with pytest.raises(ValidationError, match=message):
        SweepSpec.model_validate(data)
