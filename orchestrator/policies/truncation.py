"""HyperDrive's Truncation selection policy: stop a run ranked among the worst X percent at its interval."""

from __future__ import annotations

import math
from dataclasses import dataclass

from orchestrator.policies.base import DEFAULT_SCHEDULE, Decision, Goal, Schedule, Table, best, better, finite_or_none


@dataclass(frozen=True)
class Truncation:
    """Rank the runs that reached interval N by best(., N); stop r if among the worst floor(X/100 * count).

    With exclude_finished_jobs, finished runs are left out of the ranking. Ties favour r: r is stopped only when
    at least count - k runs are strictly better than it.
    """

    goal: Goal
    truncation_percentage: int
    exclude_finished_jobs: bool = False
    schedule: Schedule = DEFAULT_SCHEDULE
    name: str = "truncation"

    def applies(self, interval: int) -> bool:
        return self.schedule.applies(interval)

    def decide(self, table: Table, trial: int, interval: int) -> Decision:
        ranked = {
            n: best(c.values[:interval], self.goal)
            for n, c in table.items()
            if len(c.values) >= interval and (n == trial or not (self.exclude_finished_jobs and c.finished))
        }
        count = len(ranked)
        k = self.cut(count)
        mine = ranked[trial]
        ahead = sum(better(v, mine, self.goal) for n, v in ranked.items() if n != trial)
        worst_kept = sorted(ranked.values(), reverse=self.goal == "maximize")[count - k - 1] if 0 < k < count else None
        return self.judge(trial, interval, mine, count, ahead, worst_kept)

    def cut(self, count: int) -> int:
        """How many of `count` ranked runs are the worst X percent: floor(X/100 * count)."""
        return math.floor(self.truncation_percentage / 100 * count)

    def judge(self, trial: int, interval: int, mine: float, count: int, ahead: int, worst_kept: float | None) -> Decision:
        """The decision for a run with `ahead` of `count` ranked runs strictly better (worst_kept: the last kept)."""
        k = self.cut(count)
        stop = k > 0 and ahead >= count - k
        reason = (
            f"rank {ahead + 1} of {count} by best value (the worst {k} = {self.truncation_percentage}% are stopped)"
        )
        threshold = finite_or_none(worst_kept) if worst_kept is not None else None
        return Decision(trial, interval, stop, finite_or_none(mine), threshold, reason)
