"""ASHA from the index: the keep-th best of the sorted values at a rung, read by position."""

from __future__ import annotations

from orchestrator.policies.asha import Asha
from orchestrator.policies.base import Decision
from orchestrator.policies.incremental.index import CurveIndex


def decide(policy: Asha, index: CurveIndex, trial: int, interval: int) -> Decision:
    """Asha.decide on the indexed table, in O(log trials)."""
    values = index.values_at(interval)  # ascending
    count = len(values)
    keep = policy.keep(count)
    threshold = values[count - keep] if policy.goal == "maximize" else values[keep - 1]
    return policy.judge(trial, interval, index.value(trial, interval), threshold, count)
