"""Parameter expressions: HyperDrive's ten distributions with their exact semantics.

Each expression maps a point u of [0, 1) to a value (its inverse CDF), which serves random sampling,
quasi-random (Sobol) sampling and the Bayesian sampler alike; it also enumerates a grid (choice only)
and says how Optuna should see it. This module is pure: no I/O, no celery, no redis.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from orchestrator.store.codec import tag_nonfinite, untag_nonfinite

# Normal-family quantiles are kept inside (EPS, 1 - EPS) so that the inverse CDF stays finite.
EPS = 1e-12
# exp() overflows a float past about 709: a loguniform bound this large is almost surely a value, not an exponent.
MAX_EXPONENT = 700.0
# Documented bound (README, "The sweep spec"): a grid holds at most MAX_GRID_POINTS points (its size is
# multiplied out, never enumerated, before it is refused).
MAX_GRID_POINTS = 100_000
_STD_NORMAL = NormalDist()

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution, FloatDistribution


def optuna_distributions() -> ModuleType:
    """optuna.distributions, loaded on first use: importing Optuna takes half a second that reading a spec, the CLI
    and a trial's own process do not need."""
    import optuna.distributions

    return optuna.distributions


class GridError(ValueError):
    """Raised when a grid is asked of a space that holds a non-enumerable expression."""


def quantize(x: float, q: float) -> float | int:
    """round(x / q) * q, computed in decimal so that 3 * 0.1 is 0.3, and an int when q and x are integral."""
    k = round(x / q)
    value = float(Decimal(k) * Decimal(repr(float(q))))
    if float(q).is_integer():
        return int(value)
    return value


def _is_primitive(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def value_key(value: Any) -> tuple[str, Any]:
    """A key under which equal values meet: 1 and 1.0 are one value, NaN and NaN too, and dicts whatever their key
    order; "1" and True are distinct."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("num", "nan") if math.isnan(value) else ("num", float(value))
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, Mapping):  # key order does not make another value (W&B's grid agrees)
        return ("map", tuple(sorted((repr(k), value_key(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(value_key(v) for v in value))
    return ("json", repr(value))


@dataclass(frozen=True)
class OptunaView:
    """How Optuna sees one expression: the distribution it samples and the maps to and from our value."""

    distribution: BaseDistribution
    to_value: Callable[[Any], Any]
    to_internal: Callable[[Any], Any]


def _identity(x: Any) -> Any:
    return x


def indexed_view(values: list[Any]) -> OptunaView:
    """A categorical over the values' positions: for values Optuna cannot hold (dicts, lists) or repeats."""
    keys = [value_key(v) for v in values]
    return OptunaView(
        optuna_distributions().CategoricalDistribution(list(range(len(values)))),
        lambda i: values[int(i)],
        lambda v: keys.index(value_key(v)),
    )


class _Expression(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def from_unit(self, u: float) -> Any:
        """The value at quantile u of [0, 1)."""
        raise NotImplementedError

    def sample(self, rng: random.Random) -> Any:
        """One value drawn with the given random generator."""
        return self.from_unit(rng.random())

    def grid_values(self) -> list[Any]:
        """The distinct values a grid takes; refused for anything but choice, as in HyperDrive."""
        raise GridError(
            f"{self.describe()} cannot be enumerated: grid sampling supports only choice(...) "
            "(use choice(range(a, b)) for integers, or random/bayesian/sobol sampling)"
        )

    def optuna(self) -> OptunaView:
        """The Optuna distribution that stands for this expression."""
        raise NotImplementedError

    def describe(self) -> str:
        """The expression as HyperDrive writes it."""
        args = ", ".join(repr(v) for k, v in self.model_dump().items() if k != "type")
        return f"{getattr(self, 'type', '?')}({args})"


class _ExactValues(_Expression):
    """User-given values kept exactly through the ledger's strict JSON: NaN and infinities are tagged when
    serialized to JSON and restored when validated (a W&B grid may hold NaN as a value)."""

    type: str
    values: list[Any] = Field(min_length=1)

    @field_validator("values", mode="before")
    @classmethod
    def _untag(cls, values: Any) -> Any:
        return untag_nonfinite(values)

    @field_serializer("values", when_used="json")
    def _tag(self, values: list[Any]) -> Any:
        return tag_nonfinite(values)


class Choice(_ExactValues):
    type: Literal["choice"] = "choice"

    def from_unit(self, u: float) -> Any:
        n = len(self.values)
        return self.values[min(int(u * n), n - 1)]

    def grid_values(self) -> list[Any]:
        seen: dict[tuple[str, Any], Any] = {}
        for v in self.values:
            seen.setdefault(value_key(v), v)
        return list(seen.values())

    def optuna(self) -> OptunaView:
        distinct = self.grid_values()
        plain = all(_is_primitive(v) and not (isinstance(v, float) and math.isnan(v)) for v in self.values)
        if len(distinct) == len(self.values) and plain:  # NaN != NaN: Optuna could not find it among the choices
            return OptunaView(optuna_distributions().CategoricalDistribution(self.values), _identity, _identity)
        return indexed_view(self.values)

    def describe(self) -> str:
        return f"choice({', '.join(repr(v) for v in self.values)})"


class RandInt(_Expression):
    type: Literal["randint"] = "randint"
    upper: int = Field(ge=1, description="values are 0 .. upper-1")

    def from_unit(self, u: float) -> int:
        return min(int(u * self.upper), self.upper - 1)

    def optuna(self) -> OptunaView:
        return OptunaView(optuna_distributions().IntDistribution(0, self.upper - 1), _identity, _identity)


class _Bounded(_Expression):
    low: float
    high: float

    @model_validator(mode="after")
    def _low_below_high(self) -> _Bounded:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be less than high ({self.high})")
        return self

    def _uniform(self, u: float) -> float:
        return self.low + u * (self.high - self.low)


class Uniform(_Bounded):
    type: Literal["uniform"] = "uniform"

    def from_unit(self, u: float) -> float:
        return self._uniform(u)

    def optuna(self) -> OptunaView:
        return OptunaView(optuna_distributions().FloatDistribution(self.low, self.high), _identity, _identity)


class QUniform(_Bounded):
    type: Literal["quniform"] = "quniform"
    q: float = Field(gt=0)

    def from_unit(self, u: float) -> float | int:
        return quantize(self._uniform(u), self.q)

    def optuna(self) -> OptunaView:
        lo, hi = quantize(self.low, self.q), quantize(self.high, self.q)
        if lo == hi:
            return OptunaView(optuna_distributions().CategoricalDistribution([lo]), _identity, _identity)
        if isinstance(lo, int) and isinstance(hi, int):
            return OptunaView(optuna_distributions().IntDistribution(lo, hi, step=int(self.q)), _identity, _identity)
        dist = optuna_distributions().FloatDistribution(lo, hi, step=self.q)
        return OptunaView(dist, lambda x: quantize(x, self.q), _identity)


class _LogBounded(_Bounded):
    @model_validator(mode="after")
    def _exponents(self) -> _LogBounded:
        if max(abs(self.low), abs(self.high)) > MAX_EXPONENT:
            raise ValueError(
                f"low and high are exponents (the value is exp(uniform(low, high))); |{self.high}| > "
                f"{MAX_EXPONENT:g} overflows: write the natural logs of the bounds, e.g. {math.log(1e-4):.2f}"
            )
        return self

    def _log_value(self, u: float) -> float:
        return math.exp(self._uniform(u))

    def _log_dist(self) -> FloatDistribution:
        dist: FloatDistribution = optuna_distributions().FloatDistribution(math.exp(self.low), math.exp(self.high), log=True)
        return dist

    def describe(self) -> str:
        rng = f"[{math.exp(self.low):.4g}, {math.exp(self.high):.4g}]"
        return f"{super().describe()} ~ {rng}"


class LogUniform(_LogBounded):
    type: Literal["loguniform"] = "loguniform"

    def from_unit(self, u: float) -> float:
        return self._log_value(u)

    def optuna(self) -> OptunaView:
        return OptunaView(self._log_dist(), _identity, _identity)


class QLogUniform(_LogBounded):
    type: Literal["qloguniform"] = "qloguniform"
    q: float = Field(gt=0)

    def from_unit(self, u: float) -> float | int:
        return quantize(self._log_value(u), self.q)

    def optuna(self) -> OptunaView:
        dist = self._log_dist()
        return OptunaView(
            dist,
            lambda x: quantize(x, self.q),
            lambda v: min(max(float(v), dist.low), dist.high),
        )


class _Gaussian(_Expression):
    mu: float
    sigma: float = Field(gt=0, description="standard deviation, > 0")

    def _normal(self, u: float) -> float:
        return self.mu + self.sigma * _STD_NORMAL.inv_cdf(min(max(u, EPS), 1 - EPS))

    def _quantile(self, x: float) -> float:
        return min(max(_STD_NORMAL.cdf((x - self.mu) / self.sigma), EPS), 1 - EPS)

    def _unit_view(self, to_internal: Callable[[Any], Any]) -> OptunaView:
        # No bounded Optuna distribution is normal: Optuna samples the quantile, whose uniform prior maps
        # back to exactly this distribution, so TPE's prior stays the user's.
        return OptunaView(optuna_distributions().FloatDistribution(EPS, 1 - EPS), self.from_unit, to_internal)


class Normal(_Gaussian):
    type: Literal["normal"] = "normal"

    def from_unit(self, u: float) -> float:
        return self._normal(u)

    def optuna(self) -> OptunaView:
        return self._unit_view(lambda v: self._quantile(float(v)))


class QNormal(_Gaussian):
    type: Literal["qnormal"] = "qnormal"
    q: float = Field(gt=0)

    def from_unit(self, u: float) -> float | int:
        return quantize(self._normal(u), self.q)

    def optuna(self) -> OptunaView:
        return self._unit_view(lambda v: self._quantile(float(v)))


def _log_or_floor(v: Any) -> float:
    return math.log(float(v)) if float(v) > 0 else -math.inf


class LogNormal(_Gaussian):
    type: Literal["lognormal"] = "lognormal"

    def from_unit(self, u: float) -> float:
        return math.exp(self._normal(u))

    def optuna(self) -> OptunaView:
        return self._unit_view(lambda v: self._quantile(_log_or_floor(v)))


class QLogNormal(_Gaussian):
    type: Literal["qlognormal"] = "qlognormal"
    q: float = Field(gt=0)

    def from_unit(self, u: float) -> float | int:
        return quantize(math.exp(self._normal(u)), self.q)

    def optuna(self) -> OptunaView:
        return self._unit_view(lambda v: self._quantile(_log_or_floor(v)))


Expression = Annotated[
    Choice | RandInt | Uniform | QUniform | LogUniform | QLogUniform | Normal | QNormal | LogNormal | QLogNormal,
    Field(discriminator="type"),
]

@dataclass(frozen=True)
class SearchSpace:
    """A flat, ordered mapping of parameter names (dotted for nested groups) to expressions."""

    expressions: Mapping[str, Any]

    @property
    def names(self) -> list[str]:
        return list(self.expressions)

    def from_unit(self, point: list[float]) -> dict[str, Any]:
        return {n: e.from_unit(u) for (n, e), u in zip(self.expressions.items(), point, strict=True)}

    def sample(self, rng: random.Random) -> dict[str, Any]:
        return {n: e.sample(rng) for n, e in self.expressions.items()}

    def grid_size(self) -> int:
        """The exact number of grid points; raises GridError naming the first non-enumerable parameter, or
        when the grid holds more than MAX_GRID_POINTS (sizes are multiplied, never enumerated)."""
        size = math.prod(len(v) for v in self._grid_axes())
        if size > MAX_GRID_POINTS:
            raise GridError(f"the grid has {size:,} points, more than the limit of {MAX_GRID_POINTS:,}: "
                            "use fewer values, or random/bayesian/sobol sampling")
        return size

    def grid(self) -> Iterator[dict[str, Any]]:
        """Every grid point once, the last parameter varying fastest."""
        axes = self._grid_axes()
        names = self.names
        for idx in range(math.prod(len(a) for a in axes)):
            point: dict[str, Any] = {}
            for name, axis in zip(reversed(names), reversed(axes), strict=True):
                idx, i = divmod(idx, len(axis))
                point[name] = axis[i]
            yield {n: point[n] for n in names}

    def _grid_axes(self) -> list[list[Any]]:
        axes = []
        for name, expr in self.expressions.items():
            try:
                axes.append(expr.grid_values())
            except GridError as exc:
                raise GridError(f"parameter {name!r}: {exc}") from None
        return axes


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Turn dotted names back into nested dicts, as nested parameter groups are handed to trials."""
    out: dict[str, Any] = {}
    for name, value in flat.items():
        *groups, leaf = name.split(".")
        node = out
        for g in groups:
            node = node.setdefault(g, {})
        node[leaf] = value
    return out
