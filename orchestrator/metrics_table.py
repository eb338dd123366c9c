"""The evaluator's metrics table, built incrementally from stream entries (pure: no I/O).

Each trial's curve is its primary-metric values in report order for its current attempt (a retried trial
starts a new curve). Once a trial is stopped at interval N, later values it reported before it saw the stop
are kept in the stream and ledger but not in the table, so every decision is a function of what each run had
reported up to its own decision points, not of how quickly a stopped trial noticed.

The curves live in a `CurveIndex`, which keeps the per-interval order statistics the policies read, so a
decision does not rebuild the table (`orchestrator.policies.incremental.decide(policy, table.index, ...)`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from orchestrator.policies.base import Curve, Goal
from orchestrator.policies.incremental.index import CurveIndex
from orchestrator.store.codec import metric_float


@dataclass
class MetricTable:
    metric: str
    goal: Goal = "maximize"
    attempts: dict[int, int] = field(default_factory=dict)
    stopped_at: dict[int, int] = field(default_factory=dict)
    _finished: set[int] = field(default_factory=set)
    _open: set[int] = field(default_factory=set)  # trials with a curve whose current attempt has not ended
    index: CurveIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = CurveIndex(self.goal)

    @property
    def curves(self) -> Mapping[int, Sequence[float]]:
        return self.index.curves

    @property
    def finished(self) -> frozenset[int]:
        """Trials whose current attempt ended (read-only: mark them with `finish`, which updates the index)."""
        return frozenset(self._finished)

    @property
    def unfinished(self) -> AbstractSet[int]:
        """Trials with a curve whose current attempt has not ended: about the trials in flight, however many
        trials the sweep has had (what the evaluator checks for ended runs)."""
        return frozenset(self._open)

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
            self.index.reset(trial)
            self.stopped_at.pop(trial, None)
            self._finished.discard(trial)
            self._open.add(trial)
        if trial in self.stopped_at:
            return None
        return self.index.append(trial, value)

    def stop(self, trial: int, interval: int) -> None:
        """The trial was stopped at `interval`: its curve ends there."""
        self.stopped_at.setdefault(trial, interval)
        self.index.truncate(trial, interval)
        self.index.end(trial)

    def finish(self, *trials: int) -> None:
        """These trials' current attempts ended (a finished run: exclude_finished_jobs leaves it out)."""
        for trial in trials:
            self._finished.add(trial)
            self._open.discard(trial)
            self.index.end(trial)

    def view(self) -> dict[int, Curve]:
        return self.index.view()
