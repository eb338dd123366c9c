"""Truncation selection from the index: the judged run's rank by bisection in the sorted best(., N)."""

from __future__ import annotations

from orchestrator.policies.base import Decision
from orchestrator.policies.incremental.index import CurveIndex
from orchestrator.policies.truncation import Truncation


def decide(policy: Truncation, index: CurveIndex, trial: int, interval: int) -> Decision:
    """Truncation.decide on the indexed table, in O(log trials).

    With exclude_finished_jobs the ranking is the runs that have not ended, plus the judged run even if it has.
    """
    mine = index.best(trial, interval)
    ranked = index.bests_at(interval, open_only=policy.exclude_finished_jobs)  # ascending
    extra = policy.exclude_finished_jobs and trial in index.ended  # the judged run, not in `ranked`
    count = len(ranked) + extra
    maximize = policy.goal == "maximize"
    ahead = len(ranked) - ranked.bisect_right(mine) if maximize else ranked.bisect_left(mine)
    k = policy.cut(count)
    worst_kept = None
    if 0 < k < count:
        position = k if maximize else count - k - 1  # ascending position of the best-first (count - k - 1)-th
        slot = ranked.bisect_left(mine) if extra else count  # where the judged run sits among `ranked`
        worst_kept = mine if position == slot else ranked[position - (position > slot)]
    return policy.judge(trial, interval, mine, count, ahead, worst_kept)
