"""Population-based training (Jaderberg et al. 2017; Ray Tune's PBT explore rules), as a pure function.

Exploit ("truncation selection"): when a member reports its interval N, N a multiple of perturbation_interval,
the live members are ranked by their latest value (goal-aware, NaN worst, ties by number); with n members and
k = min(ceil(n x quantile_fraction), n // 2), a member among the worst k is replaced by a copy of one of the best k,
drawn with a generator seeded by (seed, trial, interval), so a re-evaluated report picks the same donor.

Explore: each parameter of the donor, with probability resample_probability, is redrawn from its expression;
otherwise a numeric one is multiplied by 0.8 or 1.2 (clipped to its bounds: uniform, quniform, loguniform and
randint have bounds; normal ones do not; q-expressions are re-quantized, integers rounded) and a choice moves to
a neighbouring value (index - 1 or + 1, kept within the list).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.population.base import Exploit, Goal, rank, seeded
from orchestrator.space import Choice, LogUniform, QLogUniform, QUniform, RandInt, Uniform, quantize

FACTORS = (0.8, 1.2)


@dataclass(frozen=True)
class Pbt:
    goal: Goal
    perturbation_interval: int
    quantile_fraction: float = 0.25
    resample_probability: float = 0.25
    seed: int = 0

    @property
    def name(self) -> str:
        return "pbt"

    def applies(self, interval: int) -> bool:
        return interval > 0 and interval % self.perturbation_interval == 0

    def decide(self, trial: int, interval: int, latest: Mapping[int, float]) -> Exploit | None:
        if not self.applies(interval) or trial not in latest:
            return None
        ranked = rank(latest, self.goal)
        k = min(math.ceil(len(ranked) * self.quantile_fraction), len(ranked) // 2)
        if k == 0 or trial not in ranked[len(ranked) - k :]:
            return None
        donor = seeded(self.seed, "donor", trial, interval).choice(ranked[:k])
        value, donor_value = latest[trial], latest[donor]
        reason = f"pbt: #{trial} ({value:.6g}) in the bottom {k} of {len(ranked)}; copies #{donor} ({donor_value:.6g})"
        return Exploit(trial, interval, donor, value, donor_value, reason)

    def explore(self, params: Mapping[str, Any], expressions: Mapping[str, Any], exploit: Exploit) -> dict[str, Any]:
        rng = seeded(self.seed, "explore", exploit.trial, exploit.interval)
        out = dict(params)
        for name, expr in expressions.items():
            if name not in params:
                continue
            if rng.random() < self.resample_probability:
                out[name] = expr.sample(rng)
            else:
                out[name] = perturb(params[name], expr, rng)
        return out


def perturb(value: Any, expr: Any, rng: random.Random) -> Any:
    """One explore step of a value of `expr`: a neighbouring choice, or x0.8 / x1.2 within the expression's bounds."""
    if isinstance(expr, Choice):
        return _neighbour(value, expr.values, rng)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    x = float(value) * rng.choice(FACTORS)
    low, high = bounds(expr)
    x = min(max(x, low), high)
    q = getattr(expr, "q", None)
    if q is not None:
        return quantize(x, q)
    if isinstance(expr, RandInt) or isinstance(value, int):
        return round(x)
    return x


def bounds(expr: Any) -> tuple[float, float]:
    """The interval an expression's values lie in (infinite for the normal family)."""
    if isinstance(expr, (LogUniform, QLogUniform)):
        return math.exp(expr.low), math.exp(expr.high)
    if isinstance(expr, (Uniform, QUniform)):
        return expr.low, expr.high
    if isinstance(expr, RandInt):
        return 0.0, float(expr.upper - 1)
    return -math.inf, math.inf


def _neighbour(value: Any, values: list[Any], rng: random.Random) -> Any:
    index = next((i for i, v in enumerate(values) if v == value and type(v) is type(value)), None)
    if index is None or len(values) == 1:
        return value
    if index == 0:
        return values[1]
    if index == len(values) - 1:
        return values[-2]
    return values[index + rng.choice((-1, 1))]
