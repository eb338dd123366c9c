"""ASHA from the index: the keep-th best of the values at a rung, kept as the top of a two-heap split."""

from __future__ import annotations

from orchestrator.policies.asha import Asha
from orchestrator.policies.base import Decision
from orchestrator.policies.incremental.index import CurveIndex


def decide(policy: Asha, index: CurveIndex, trial: int, interval: int) -> Decision:
    """Asha.decide on the indexed table, in O(log trials): the threshold is the value at ascending position
    count - keep (maximize) or keep - 1 (minimize), the top of a lower part of that many values plus one."""
    if policy.goal == "maximize":
        values = index.ranked_at(f"asha/{policy.reduction_factor}", interval, lambda n: n - policy.keep(n) + 1)
    else:
        values = index.ranked_at(f"asha/{policy.reduction_factor}", interval, policy.keep)
    return policy.judge(trial, interval, index.value(trial, interval), values.low_top(), len(values))
