"""HyperDrive's Median stopping policy: stop a run whose best is worse than the median of running averages."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from orchestrator.policies.base import DEFAULT_SCHEDULE, Decision, Goal, Schedule, Table, best, better, finite_or_none, mean


@dataclass(frozen=True)
class Median:
    """M = median of avg(q, N) over the runs q with at least N reports (r included); stop if best(r, N) is worse."""

    goal: Goal
    schedule: Schedule = DEFAULT_SCHEDULE
    name: str = "median"

    def applies(self, interval: int) -> bool:
        return self.schedule.applies(interval)

    def decide(self, table: Table, trial: int, interval: int) -> Decision:
        averages = [mean(c.values[:interval], self.goal) for c in table.values() if len(c.values) >= interval]
        mine = best(table[trial].values[:interval], self.goal)
        return self.judge(trial, interval, mine, statistics.median(averages), len(averages))

    def judge(self, trial: int, interval: int, mine: float, m: float, count: int) -> Decision:
        """The decision for best(r, N) = mine against the median m of `count` running averages."""
        stop = better(m, mine, self.goal)
        reason = (
            f"best {mine:.6g} {'worse than' if stop else 'not worse than'} the median {m:.6g} "
            f"of {count} running averages at interval {interval}"
        )
        return Decision(trial, interval, stop, finite_or_none(mine), finite_or_none(m), reason)
