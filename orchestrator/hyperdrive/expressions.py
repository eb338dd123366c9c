"""HyperDrive's ten parameter expressions, as sweepq parameter expressions (same names, arguments, semantics)."""

from __future__ import annotations

from typing import Any


def choice(*options: Any) -> dict[str, Any]:
    """choice(1, 2, 3), choice([1, 2, 3]) or choice(range(1, 5))."""
    values = list(options[0]) if len(options) == 1 and isinstance(options[0], (list, tuple, range)) else list(options)
    return {"choice": values}


def randint(upper: int) -> dict[str, Any]:
    return {"randint": [upper]}


def uniform(min_value: float, max_value: float) -> dict[str, Any]:
    return {"uniform": [min_value, max_value]}


def quniform(min_value: float, max_value: float, q: float) -> dict[str, Any]:
    return {"quniform": [min_value, max_value, q]}


def loguniform(min_value: float, max_value: float) -> dict[str, Any]:
    return {"loguniform": [min_value, max_value]}


def qloguniform(min_value: float, max_value: float, q: float) -> dict[str, Any]:
    return {"qloguniform": [min_value, max_value, q]}


def normal(mu: float, sigma: float) -> dict[str, Any]:
    return {"normal": [mu, sigma]}


def qnormal(mu: float, sigma: float, q: float) -> dict[str, Any]:
    return {"qnormal": [mu, sigma, q]}


def lognormal(mu: float, sigma: float) -> dict[str, Any]:
    return {"lognormal": [mu, sigma]}


def qlognormal(mu: float, sigma: float, q: float) -> dict[str, Any]:
    return {"qlognormal": [mu, sigma, q]}
