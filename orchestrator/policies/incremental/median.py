"""Median stopping from the index: the median of the sorted running averages at N, read by position."""

from __future__ import annotations

from orchestrator.policies.base import Decision
from orchestrator.policies.incremental.index import CurveIndex
from orchestrator.policies.median import Median


def decide(policy: Median, index: CurveIndex, trial: int, interval: int) -> Decision:
    """Median.decide on the indexed table, in O(log trials); the median is computed as statistics.median does."""
    averages = index.averages_at(interval)
    count = len(averages)
    half = count // 2
    m = averages[half] if count % 2 == 1 else (averages[half - 1] + averages[half]) / 2
    return policy.judge(trial, interval, index.best(trial, interval), m, count)
