"""Which value ranks a trial (pure): its best report, or its summary (final) value, per `metric.summary`.

One rule serves the best trial, the sweep's running best, the metric target and what samplers learn, so they
never disagree. `best` (the default, as HyperDrive's client ranks children by the best value they logged): the
best of the trial's reports and its final value. `last` (W&B's run summary): the trial's final value (what it
returned or set explicitly, else its last report); a running trial's last report until then. NaN never ranks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from orchestrator.constraints import feasible, violations
from orchestrator.store.codec import metric_float

Goal = Literal["maximize", "minimize"]
RANKED = ("completed", "stopped")  # trials that produced a result a sampler or the best trial may use


def _finite(v: float | None) -> float | None:
    return None if v is None or math.isnan(v) else v


def best_of(rec: Mapping[str, Any], goal: str) -> float | None:
    """The best value a trial produced: its best report or its final value, NaN excluded."""
    values = [v for v in (_finite(metric_float(rec.get("best"))), _finite(metric_float(rec.get("value")))) if v is not None]
    if not values:
        return None
    return max(values) if goal == "maximize" else min(values)


def last_of(rec: Mapping[str, Any]) -> float | None:
    """The trial's summary value: its final value once it has one, else its last report (NaN excluded)."""
    final = metric_float(rec.get("value"))
    return _finite(final if final is not None else metric_float(rec.get("last")))


@dataclass(frozen=True)
class Ranking:
    """How one sweep ranks trials: the goal and which value (best or last) counts."""

    goal: Goal = "maximize"
    summary: Literal["best", "last"] = "best"
    constraints: tuple[Any, ...] = ()  # the sweep's constraints: an infeasible trial has no score

    @classmethod
    def of(cls, metric: Mapping[str, Any] | Any | None) -> Ranking | None:
        """From a Metric model or its JSON dict; None for a sweep without a metric (nothing ranks)."""
        if metric is None:
            return None
        if isinstance(metric, Mapping):
            goal, summary, constraints = metric.get("goal"), metric.get("summary"), metric.get("constraints")
        else:
            goal, summary = metric.goal, getattr(metric, "summary", "best")
            constraints = getattr(metric, "constraints", ())
        chosen: Goal = "minimize" if goal == "minimize" else "maximize"
        return cls(chosen, "last" if summary == "last" else "best", tuple(constraints or ()))

    def raw(self, rec: Mapping[str, Any]) -> float | None:
        """The trial's value per `summary`, feasible or not."""
        return last_of(rec) if self.summary == "last" else best_of(rec, self.goal)

    def score(self, rec: Mapping[str, Any]) -> float | None:
        """The value the trial is ranked by (None when it has none, or is infeasible: it can never be the best)."""
        return None if self.feasible(rec) is False else self.raw(rec)

    def feasible(self, rec: Mapping[str, Any]) -> bool | None:
        """Whether a finished trial meets every constraint; None for an unconstrained sweep or an unfinished trial."""
        return feasible(self.constraints, rec)

    def violations(self, rec: Mapping[str, Any]) -> tuple[float, ...] | None:
        """Each constraint's violation (<= 0: met) for samplers; None for an unconstrained sweep."""
        return violations(self.constraints, rec) if self.constraints else None

    def learned(self, rec: Mapping[str, Any]) -> float | None:
        """What a sampler learns from a trial: its value (feasible or not: constraints are told apart) once it
        completed or was stopped, else nothing."""
        return self.raw(rec) if rec.get("status") in RANKED else None

    def better(self, a: float, b: float) -> bool:
        return a > b if self.goal == "maximize" else a < b

    def pick(self, scored: list[tuple[float, dict[str, Any]]]) -> dict[str, Any] | None:
        """The best-scored item (the first one on ties), or None."""
        best: tuple[float, dict[str, Any]] | None = None
        for value, item in scored:
            if best is None or self.better(value, best[0]):
                best = (value, item)
        return None if best is None else best[1]


def sampler_value(record: dict[str, Any], ranking: Ranking | None) -> float | None:
    """What a sampler learns from a trial: its ranked value (metric.summary) once completed or stopped."""
    return None if ranking is None else ranking.learned(record)


def objective_values(rec: dict[str, Any], names: Sequence[str], ranking: Ranking | None) -> tuple[float, ...] | None:
    """Each objective's value (the primary ranked per metric.summary, the others final); None unless all are numbers."""
    finals = rec.get("final_metrics") or {}
    values = [sampler_value(rec, ranking), *(metric_float(finals.get(n)) for n in names[1:])]
    return None if any(v is None for v in values) else tuple(v for v in values if v is not None)
