"""Incremental early-termination decisions: the pure policies' decisions read from per-interval order statistics
kept as reports arrive (`CurveIndex`), so a decision costs O(log n) in the sweep's trials instead of O(n).

The pure policies stay the reference (tests/unit/policies/test_incremental.py checks every decision against them).
The `optuna` pruner wrapper has no incremental version: it builds a throwaway Optuna study from the whole table
for each decision, and Optuna's pruners read every trial of that study, so it stays O(trials) per decision and
is given the index's table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.policies.asha import Asha
from orchestrator.policies.bandit import Bandit
from orchestrator.policies.base import Decision, Policy
from orchestrator.policies.hyperband import Hyperband
from orchestrator.policies.incremental import asha, bandit, hyperband, median, truncation
from orchestrator.policies.incremental.index import CurveIndex
from orchestrator.policies.median import Median
from orchestrator.policies.truncation import Truncation

Decide = Callable[[Any, CurveIndex, int, int], Decision]

INCREMENTAL: dict[type[Any], Decide] = {
    Bandit: bandit.decide,
    Median: median.decide,
    Truncation: truncation.decide,
    Asha: asha.decide,
    Hyperband: hyperband.decide,
}


def decide(policy: Policy, index: CurveIndex, trial: int, interval: int) -> Decision:
    """The policy's decision for `trial` at `interval` on the indexed table (the pure one for a policy without an
    incremental version, such as the optuna wrapper)."""
    incremental = INCREMENTAL.get(type(policy))
    if incremental is None:
        return policy.decide(index.view(), trial, interval)
    return incremental(policy, index, trial, interval)


__all__ = ["INCREMENTAL", "CurveIndex", "decide"]
