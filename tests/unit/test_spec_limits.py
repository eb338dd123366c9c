"""The documented bounds of a spec, at their edges: grid size, choice ranges, numbers, nesting, addresses."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.dashboard.auth import is_loopback, parse_basic_auth
from orchestrator.loading import MAX_DEPTH, MAX_VALUES, SpecError, document_problems, load_spec
from orchestrator.space import MAX_GRID_POINTS
from orchestrator.space_parse import MAX_RANGE_VALUES, int_range


def spec(parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "s", "trial": {"function": "m:f"}, "parameters": parameters, **extra}


def test_a_grid_of_exactly_the_limit_is_accepted_and_one_more_point_is_refused() -> None:
    side = 100
    assert side**2 * 10 == MAX_GRID_POINTS
    at_limit = {"a": {"choice": {"range": [side]}}, "b": {"choice": {"range": [side]}}, "c": {"choice": {"range": [10]}}}
    assert load_spec(spec(at_limit, sampling={"method": "grid"})).total_runs == MAX_GRID_POINTS
    over = {**at_limit, "d": {"choice": [1, 2]}}
    with pytest.raises(SpecError) as refused:
        load_spec(spec(over, sampling={"method": "grid"}))
    assert refused.value.problems[0].path == "sampling" and "200,000 points" in refused.value.problems[0].message


@pytest.mark.parametrize(("bounds", "values"), [([3], [0, 1, 2]), ([2, 8, 3], [2, 5]), ([5, 0, -2], [5, 3, 1]),
                                                ([0.0, 2.0], [0, 1])])
def test_int_range_is_pythons_range(bounds: list[Any], values: list[int]) -> None:
    assert int_range(bounds) == values


@pytest.mark.parametrize("bounds", [[None], [[1], 3], [0, 1.5], [True, 3], [0, 10**400], [0, MAX_RANGE_VALUES + 1],
                                    [3, 0], [0, 5, 0], [], [1, 2, 3, 4], "0, 3"])
def test_int_range_refuses_with_a_value_error(bounds: Any) -> None:
    with pytest.raises(ValueError):
        int_range(bounds)


@pytest.mark.parametrize("expression", [{"quniform": [0, 1e300, 1e-300]}, {"qlognormal": [300, 100, 1]},
                                        {"lognormal": [700, 10]}, {"normal": [1e308, 1e308]}])
def test_expressions_whose_values_overflow_are_refused_at_their_parameter(expression: dict[str, Any]) -> None:
    with pytest.raises(SpecError) as refused:
        load_spec(spec({"x": expression}, limits={"max_total_runs": 3}))
    assert refused.value.problems[0].path == "parameters.x" and "cannot be computed" in str(refused.value)


def test_document_problems_name_big_and_non_finite_numbers_by_path() -> None:
    problems = document_problems({"a": [1, 2**63], "b": {"c": float("nan")}, "d": 2**63 - 1})
    assert {p.path for p in problems} == {"a[1]", "b.c"}


def test_cyclic_and_deep_documents_end_with_a_problem() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert "nested deeper" in document_problems({"x": loop})[0].message
    wide: list[Any] = [0] * 1000
    bomb = {"x": [wide] * (MAX_VALUES // 1000 + 1)}  # the same list many times, as a YAML alias bomb builds it
    assert "more than" in document_problems(bomb)[-1].message
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(MAX_DEPTH + 5):
        node["g"] = {}
        node = node["g"]
    assert document_problems(deep)


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True),
                                                ("localhost", True), ("0.0.0.0", False), ("::", False),
                                                ("192.168.1.10", False), ("example.org", False)])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_parse_basic_auth() -> None:
    assert parse_basic_auth("ada:love:lace") == ("ada", "love:lace")
    for bad in ("ada", "ada:", ":pw", ""):
        with pytest.raises(ValueError):
            parse_basic_auth(bad)
