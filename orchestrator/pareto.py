"""The Pareto front of a multi-objective sweep (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def dominates(a: Sequence[float], b: Sequence[float], goals: Sequence[str]) -> bool:
    """a is at least as good as b on every objective and strictly better on one."""
    signed = [(x if g == "maximize" else -x, y if g == "maximize" else -y) for x, y, g in zip(a, b, goals, strict=True)]
    return all(x >= y for x, y in signed) and any(x > y for x, y in signed)


def pareto_front(items: Sequence[tuple[Any, Sequence[float]]], goals: Sequence[str]) -> list[Any]:
    """The items (with their objective values) that no other item dominates, in their original order."""
    return [item for item, values in items if not any(dominates(other, values, goals) for _, other in items)]
