"""Median stopping from the index: the running median of the running averages at N (two heaps)."""

from __future__ import annotations

from orchestrator.policies.base import Decision
from orchestrator.policies.incremental.index import CurveIndex
from orchestrator.policies.median import Median


def decide(policy: Median, index: CurveIndex, trial: int, interval: int) -> Decision:
    """Median.decide on the indexed table, in O(log trials); the median is the one statistics.median gives."""
    averages = index.averages_at(interval)
    return policy.judge(trial, interval, index.best(trial, interval), averages.median(), len(averages))
