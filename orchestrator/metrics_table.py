"""The evaluator's metrics table, built incrementally from stream entries (pure: no I/O).

Each trial's curve is its primary-metric values in report order for its current attempt (a retried trial
starts a new curve). Once a trial is stopped at interval N, later values it reported before it saw the stop
are kept in the stream and ledger but not in the table, so every decision is a function of what each run had
reported up to its own decision points, not of how quickly a stopped trial noticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.policies.base import Curve
from orchestrator.store.codec import metric_float


@dataclass
class MetricTable:
    metric: str
    curves: dict[int, list[float]] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)
    stopped_at: dict[int, int] = field(default_factory=dict)
    finished: set[int] = field(default_factory=set)

    def add(self, trial: int, attempt: int, values: Mapping[str, Any]) -> int | None:
        """Take one report; returns the interval it completes, or None if it adds nothing to the curve."""
        value = metric_float(values.get(self.metric))
        if value is None:
            return None
        current = self.attempts.get(trial)
        if current is not None and attempt < current:
            return None  # a late report of an attempt that was retried
        if current is None or attempt > current:
            self.attempts[trial] = attempt
            self.curves[trial] = []
            self.stopped_at.pop(trial, None)
            self.finished.discard(trial)
        if trial in self.stopped_at:
            return None
        curve = self.curves[trial]
        curve.append(value)
        return len(curve)

    def stop(self, trial: int, interval: int) -> None:
        """The trial was stopped at `interval`: its curve ends there."""
        self.stopped_at.setdefault(trial, interval)
        del self.curves[trial][interval:]

    def view(self) -> dict[int, Curve]:
        return {n: Curve(values, n in self.finished or n in self.stopped_at) for n, values in self.curves.items()}
