"""What every early-termination policy sees and returns: a metrics table in, a decision out (no I/O).

One interval is one reported value of the primary metric (DESIGN §4). A NaN report counts as the worst
possible value for the goal (-inf when maximizing, +inf when minimizing), so a diverged trial is the first to
go and never the reference others are measured against; infinities keep their sign.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Goal = Literal["maximize", "minimize"]


@dataclass(frozen=True)
class Curve:
    """One trial's primary-metric reports in order, and whether the trial has ended."""

    values: Sequence[float]
    finished: bool = False


Table = Mapping[int, Curve]


@dataclass(frozen=True)
class Decision:
    """The outcome of applying a policy to `trial` at `interval`: stop or continue, and the numbers behind it."""

    trial: int
    interval: int
    stop: bool
    value: float | None
    threshold: float | None
    reason: str


class Policy(Protocol):
    """A pure early-termination rule."""

    @property
    def name(self) -> str: ...

    def applies(self, interval: int) -> bool:
        """Whether the policy is evaluated at this interval (evaluation_interval and delay_evaluation)."""
        ...

    def decide(self, table: Table, trial: int, interval: int) -> Decision:
        """Whether `trial`, which just reported its `interval`-th value, should stop."""
        ...


@dataclass(frozen=True)
class Schedule:
    """HyperDrive's evaluation schedule: interval N is evaluated when N % every == 0 and N >= delay."""

    every: int = 1
    delay: int = 0

    def applies(self, interval: int) -> bool:
        return interval >= 1 and interval % self.every == 0 and interval >= self.delay


DEFAULT_SCHEDULE = Schedule()


def worst(goal: Goal) -> float:
    return -math.inf if goal == "maximize" else math.inf


def clean(value: float, goal: Goal) -> float:
    """A reported value with NaN replaced by the worst value for the goal."""
    return worst(goal) if math.isnan(value) else value


def better(a: float, b: float, goal: Goal) -> bool:
    """a is strictly better than b."""
    return a > b if goal == "maximize" else a < b


def best(values: Sequence[float], goal: Goal) -> float:
    """The best of some values (NaN as the worst); the worst value when there are none."""
    cleaned = [clean(v, goal) for v in values]
    if not cleaned:
        return worst(goal)
    return max(cleaned) if goal == "maximize" else min(cleaned)


def mean(values: Sequence[float], goal: Goal) -> float:
    """The average (NaN as the worst). An average of both infinities is undefined, so it counts as the worst too;
    finite values whose sum overflows are averaged after scaling (math.fsum raises on both)."""
    cleaned = [clean(v, goal) for v in values]
    if not cleaned:
        return worst(goal)
    try:
        return math.fsum(cleaned) / len(cleaned)
    except ValueError:  # -inf + inf
        return worst(goal)
    except OverflowError:
        return math.fsum(v / len(cleaned) for v in cleaned)


def finite_or_none(x: float) -> float | None:
    """Decisions are stored as JSON: infinities and NaN become None."""
    return x if math.isfinite(x) else None
