"""Asynchronous successive halving: at each rung, continue only the top 1/reduction_factor of the values there."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.policies.base import DEFAULT_SCHEDULE, Decision, Goal, Schedule, Table, clean, finite_or_none


@dataclass(frozen=True)
class Asha:
    """Rungs at min_resource * reduction_factor^(min_early_stopping_rate + k). A trial reaching a rung continues
    if its value there is among the top floor(n / reduction_factor) of the n values reported at that rung so far
    (at least the single best), as Optuna's SuccessiveHalvingPruner decides; otherwise it stops.
    """

    goal: Goal
    min_resource: int = 1
    reduction_factor: float = 3
    min_early_stopping_rate: int = 0
    schedule: Schedule = DEFAULT_SCHEDULE
    name: str = "asha"

    def rung_of(self, interval: int) -> int | None:
        """The rung index whose step is `interval`, if any."""
        k = 0
        while True:
            step = self.min_resource * self.reduction_factor ** (self.min_early_stopping_rate + k)
            if step > interval:
                return None
            if int(step) == interval:
                return k
            k += 1

    def applies(self, interval: int) -> bool:
        return self.schedule.applies(interval) and self.rung_of(interval) is not None

    def decide(self, table: Table, trial: int, interval: int) -> Decision:
        values = sorted(
            (clean(c.values[interval - 1], self.goal) for c in table.values() if len(c.values) >= interval),
            reverse=self.goal == "maximize",
        )
        threshold = values[self.keep(len(values)) - 1]
        mine = clean(table[trial].values[interval - 1], self.goal)
        return self.judge(trial, interval, mine, threshold, len(values))

    def keep(self, count: int) -> int:
        """How many of the `count` values at a rung continue: floor(count / reduction_factor), at least 1."""
        return max(int(count // self.reduction_factor), 1)

    def judge(self, trial: int, interval: int, mine: float, threshold: float, count: int) -> Decision:
        """The decision for the trial's value `mine` at a rung whose keep-th best of `count` values is `threshold`."""
        keep = self.keep(count)
        stop = mine < threshold if self.goal == "maximize" else mine > threshold
        reason = f"rung at step {interval}: {'not ' if stop else ''}in the top {keep} of {count} values"
        return Decision(trial, interval, stop, finite_or_none(mine), finite_or_none(threshold), reason)
