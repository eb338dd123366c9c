"""Bandit from the index: best(r, N) of the judged run against the best value within the first N intervals."""

from __future__ import annotations

from orchestrator.policies.bandit import Bandit
from orchestrator.policies.base import Decision
from orchestrator.policies.incremental.index import CurveIndex


def decide(policy: Bandit, index: CurveIndex, trial: int, interval: int) -> Decision:
    """Bandit.decide on the indexed table, in O(log intervals)."""
    return policy.judge(trial, interval, index.best(trial, interval), index.best_within(interval))
