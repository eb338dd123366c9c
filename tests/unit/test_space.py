"""Parameter expressions: ranges, quantization, distributions (fixed seeds), grids and Optuna views."""

from __future__ import annotations

import math
import random

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from orchestrator.space import Expression, GridError, SearchSpace, nest, quantize
from orchestrator.space_parse import coerce_expression, parse_call

N = 4000
EXPR = TypeAdapter(Expression)


def expr(raw: object) -> object:
    return EXPR.validate_python(coerce_expression(raw))


def draws(raw: object, n: int = N, seed: int = 7) -> list:
    e = expr(raw)
    rng = random.Random(seed)
    return [e.sample(rng) for _ in range(n)]


def is_multiple(x: float, q: float) -> bool:
    return math.isclose(x / q, round(x / q), abs_tol=1e-9)


def test_uniform_stays_in_range_and_is_uniform() -> None:
    xs = draws({"uniform": [2, 5]})
    assert all(2 <= x < 5 for x in xs)
    assert stats.kstest(xs, stats.uniform(loc=2, scale=3).cdf).pvalue > 0.01


def test_loguniform_takes_exponents_and_its_log_is_uniform() -> None:
    xs = draws({"loguniform": [-9.2, -2.3]})
    assert all(math.exp(-9.2) <= x <= math.exp(-2.3) for x in xs)
    logs = [math.log(x) for x in xs]
    assert stats.kstest(logs, stats.uniform(loc=-9.2, scale=6.9).cdf).pvalue > 0.01


def test_quniform_rounds_to_multiples_of_q() -> None:
    xs = draws({"quniform": [0.05, 1.0, 0.1]})
    assert all(is_multiple(x, 0.1) for x in xs)
    assert set(xs) <= {round(k * 0.1, 10) for k in range(0, 11)}
    # decimal arithmetic: 3 * 0.1 is exactly 0.3, not 0.30000000000000004
    assert quantize(0.31, 0.1) == 0.3


def test_quniform_with_integral_arguments_gives_ints() -> None:
    xs = draws({"quniform": [16, 128, 16]})
    assert all(isinstance(x, int) and x % 16 == 0 and 16 <= x <= 128 for x in xs)
    assert set(xs) == {16, 32, 48, 64, 80, 96, 112, 128}


def test_qloguniform_is_quantized_exp_of_uniform() -> None:
    xs = draws({"qloguniform": [0, 4.6, 5]})
    assert all(x % 5 == 0 and 0 <= x <= 100 for x in xs)


def test_normal_has_its_mean_and_sigma() -> None:
    xs = draws({"normal": [10, 3]})
    assert stats.kstest(xs, stats.norm(loc=10, scale=3).cdf).pvalue > 0.01


def test_lognormal_log_is_normal() -> None:
    xs = draws({"lognormal": [0, 0.5]})
    assert all(x > 0 for x in xs)
    assert stats.kstest([math.log(x) for x in xs], stats.norm(loc=0, scale=0.5).cdf).pvalue > 0.01


@pytest.mark.parametrize("raw,q", [({"qnormal": [0, 5, 2]}, 2), ({"qlognormal": [2, 1, 0.5]}, 0.5)])
def test_q_variants_of_normal_are_multiples_of_q(raw: object, q: float) -> None:
    assert all(is_multiple(x, q) for x in draws(raw, 500))


def test_randint_is_zero_to_upper_minus_one() -> None:
    assert set(draws({"randint": [5]}, 500)) == {0, 1, 2, 3, 4}


def test_choice_takes_values_and_hyperdrive_range() -> None:
    assert set(draws({"choice": [16, 32, 64, 128]}, 400)) == {16, 32, 64, 128}
    assert expr({"choice": {"range": [1, 5]}}).values == [1, 2, 3, 4]
    assert expr("choice(range(1, 5))").values == [1, 2, 3, 4]
    assert expr("choice(16, 32)").values == [16, 32]


def test_call_form_parses_without_eval() -> None:
    assert parse_call("loguniform(-9.2, -2.3)") == {"type": "loguniform", "low": -9.2, "high": -2.3}
    assert parse_call("qnormal(mu=1, sigma=2, q=0.5)") == {"type": "qnormal", "mu": 1, "sigma": 2, "q": 0.5}
    with pytest.raises(ValueError, match="not one of"):
        parse_call("__import__('os').system('true')")
    with pytest.raises(ValueError, match="literals"):
        parse_call("uniform(a, b)")


@pytest.mark.parametrize(
    "raw,reason",
    [
        ({"uniform": [1, 1]}, "low"),
        ({"loguniform": [3, 2]}, "low"),
        ({"normal": [0, -1]}, "greater than 0"),
        ({"quniform": [0, 1, 0]}, "greater than 0"),
        ({"randint": [0]}, "greater than or equal to 1"),
        ({"choice": []}, "at least 1"),
        ({"loguniform": [0.0001, 1000]}, "exponents"),
        ({"uniform": [0, 1, 2]}, "takes 2 argument"),
    ],
)
def test_invalid_expressions_are_refused_with_reason(raw: object, reason: str) -> None:
    with pytest.raises((ValidationError, ValueError), match=reason):
        expr(raw)


def test_grid_counts_and_order() -> None:
    space = SearchSpace({"layers": expr({"choice": [1, 2, 3]}), "batch": expr({"choice": [16, 32]})})
    points = list(space.grid())
    assert space.grid_size() == 6 == len(points)
    assert points[0] == {"layers": 1, "batch": 16} and points[1] == {"layers": 1, "batch": 32}
    assert len({tuple(p.items()) for p in points}) == 6


def test_grid_counts_equal_values_once_but_keeps_types_apart() -> None:
    assert SearchSpace({"a": expr({"choice": [1, 1.0, 2]})}).grid_size() == 2
    assert SearchSpace({"a": expr({"choice": ["1", True, 1]})}).grid_size() == 3
    three = SearchSpace({k: expr({"choice": list(range(n))}) for k, n in [("a", 4), ("b", 5), ("c", 3)]})
    assert three.grid_size() == 60


@pytest.mark.parametrize("raw", [{"uniform": [0, 1]}, {"normal": [0, 1]}, {"randint": [3]}, {"quniform": [0, 4, 1]}])
def test_grid_refuses_anything_but_choice(raw: object) -> None:
    with pytest.raises(GridError, match=r"parameter 'x'.*grid sampling supports only choice"):
        SearchSpace({"x": expr(raw)}).grid_size()


def test_optuna_views_match_hyperdrive_semantics() -> None:
    q = expr({"quniform": [16, 128, 16]}).optuna().distribution
    assert isinstance(q, IntDistribution) and (q.low, q.high, q.step) == (16, 128, 16)
    qf = expr({"quniform": [0, 1, 0.25]}).optuna().distribution
    assert isinstance(qf, FloatDistribution) and qf.step == 0.25
    lg = expr({"loguniform": [-2, 1]}).optuna().distribution
    assert isinstance(lg, FloatDistribution) and lg.log
    assert math.isclose(lg.low, math.exp(-2)) and math.isclose(lg.high, math.exp(1))
    ch = expr({"choice": ["a", "b"]}).optuna().distribution
    assert isinstance(ch, CategoricalDistribution) and ch.choices == ("a", "b")


def test_optuna_views_round_trip_values() -> None:
    for raw, value in [({"normal": [10, 3]}, 13.0), ({"lognormal": [0, 1]}, 2.0), ({"choice": [[1, 2], [3]]}, [3])]:
        view = expr(raw).optuna()
        internal = view.to_internal(value)
        assert view.distribution._contains(view.distribution.to_internal_repr(internal))
        back = view.to_value(internal)
        assert back == value if not isinstance(value, float) else math.isclose(back, value, rel_tol=1e-9)


def test_nest_builds_nested_dicts() -> None:
    assert nest({"a": 1, "opt.lr": 0.1, "opt.kind": "sgd"}) == {"a": 1, "opt": {"lr": 0.1, "kind": "sgd"}}
