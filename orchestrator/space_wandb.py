"""The expressions W&B sweeps have and HyperDrive lacks: inclusive integers, beta, weighted categories.

They use the same interface as orchestrator.space (from_unit, grid_values, optuna, describe) and are written in
specs by their tag, e.g. {type: int_uniform, low: 1, high: 8}; the W&B dialect produces them.
"""

from __future__ import annotations

import bisect
import itertools
import math
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from orchestrator.space import (
    EPS,
    Choice,
    LogNormal,
    LogUniform,
    Normal,
    OptunaView,
    QLogNormal,
    QLogUniform,
    QNormal,
    QUniform,
    RandInt,
    Uniform,
    _ExactValues,
    _Expression,
    _identity,
    indexed_view,
    optuna_distributions,
    quantize,
)


class IntUniform(_Expression):
    """An integer in low .. high, both included (W&B's int_uniform); a grid takes every one of them."""

    type: Literal["int_uniform"] = "int_uniform"
    low: int
    high: int

    @model_validator(mode="after")
    def _ordered(self) -> IntUniform:
        if self.low > self.high:
            raise ValueError(f"min ({self.low}) must not exceed max ({self.high})")
        return self

    def from_unit(self, u: float) -> int:
        return min(self.low + int(u * (self.high - self.low + 1)), self.high)

    def grid_values(self) -> list[Any]:
        return list(range(self.low, self.high + 1))

    def optuna(self) -> OptunaView:
        return OptunaView(optuna_distributions().IntDistribution(self.low, self.high), _identity, _identity)


class Beta(_Expression):
    """Beta(a, b) on [0, 1]."""

    type: Literal["beta"] = "beta"
    a: float = Field(gt=0)
    b: float = Field(gt=0)

    def _value(self, u: float) -> float:
        from scipy.stats import beta

        return float(beta.ppf(min(max(u, EPS), 1 - EPS), self.a, self.b))

    def from_unit(self, u: float) -> Any:
        return self._value(u)

    def _quantile(self, v: Any) -> float:
        from scipy.stats import beta

        return min(max(float(beta.cdf(float(v), self.a, self.b)), EPS), 1 - EPS)

    def optuna(self) -> OptunaView:
        return OptunaView(optuna_distributions().FloatDistribution(EPS, 1 - EPS), self.from_unit, self._quantile)


class QBeta(Beta):
    """round(Beta(a, b) / q) * q."""

    type: Literal["q_beta"] = "q_beta"  # type: ignore[assignment]
    q: float = Field(gt=0)

    def from_unit(self, u: float) -> Any:
        return quantize(self._value(u), self.q)


class WeightedChoice(_ExactValues):
    """One of the values with the given probabilities (W&B's categorical with probabilities)."""

    type: Literal["categorical"] = "categorical"
    probabilities: list[float]

    @model_validator(mode="after")
    def _weights(self) -> WeightedChoice:
        if len(self.probabilities) != len(self.values):
            raise ValueError(f"{len(self.probabilities)} probabilities for {len(self.values)} values")
        if any(p < 0 for p in self.probabilities) or not math.isclose(sum(self.probabilities), 1.0, abs_tol=1e-6):
            raise ValueError(f"probabilities must be non-negative and sum to 1 (they sum to {sum(self.probabilities):g})")
        return self

    def from_unit(self, u: float) -> Any:
        cumulative = list(itertools.accumulate(self.probabilities))
        return self.values[min(bisect.bisect_right(cumulative, u), len(self.values) - 1)]

    def grid_values(self) -> list[Any]:
        return Choice(values=self.values).grid_values()

    def optuna(self) -> OptunaView:
        return indexed_view(self.values)

    def describe(self) -> str:
        pairs = ", ".join(f"{v!r}: {p:g}" for v, p in zip(self.values, self.probabilities, strict=True))
        return f"categorical({pairs})"


AnyExpression = Annotated[
    Choice | RandInt | Uniform | QUniform | LogUniform | QLogUniform | Normal | QNormal | LogNormal | QLogNormal
    | IntUniform | Beta | QBeta | WeightedChoice,
    Field(discriminator="type"),
]
