"""HyperDrive's Bandit policy: stop a run whose best value falls outside the slack of the best run's."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.policies.base import DEFAULT_SCHEDULE, Decision, Goal, Schedule, Table, best, finite_or_none


@dataclass(frozen=True)
class Bandit:
    """B = the best value any run reported within its first N intervals; slack_factor s xor slack_amount a.

    Maximize: stop if best(r, N) < B / (1 + s), or < B - a. Minimize: stop if best(r, N) > B * (1 + s), or > B + a.
    (B = 0.8, s = 0.2 → stop below 0.667.)
    """

    goal: Goal
    slack_factor: float | None = None
    slack_amount: float | None = None
    schedule: Schedule = DEFAULT_SCHEDULE
    name: str = "bandit"

    def applies(self, interval: int) -> bool:
        return self.schedule.applies(interval)

    def threshold(self, b: float) -> float:
        if self.slack_factor is not None:
            return b / (1 + self.slack_factor) if self.goal == "maximize" else b * (1 + self.slack_factor)
        amount = self.slack_amount or 0.0
        return b - amount if self.goal == "maximize" else b + amount

    def decide(self, table: Table, trial: int, interval: int) -> Decision:
        mine = best(table[trial].values[:interval], self.goal)
        overall = best([best(c.values[:interval], self.goal) for c in table.values() if c.values], self.goal)
        return self.judge(trial, interval, mine, overall)

    def judge(self, trial: int, interval: int, mine: float, overall: float) -> Decision:
        """The decision for best(r, N) = mine against B = overall (shared with the incremental version)."""
        limit = self.threshold(overall)
        stop = mine < limit if self.goal == "maximize" else mine > limit
        slack = f"slack_factor {self.slack_factor}" if self.slack_factor is not None else f"slack_amount {self.slack_amount}"
        verdict = "outside" if stop else "within"
        reason = f"best {mine:.6g} {verdict} {slack} of the best run's {overall:.6g} (limit {limit:.6g})"
        return Decision(trial, interval, stop, finite_or_none(mine), finite_or_none(limit), reason)
