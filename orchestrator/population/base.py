"""What a population policy is (pure): a rule that, given the latest value of every live member, says whether a
member is replaced by a copy of a better one, and how the copied parameters are explored."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Goal = Literal["maximize", "minimize"]  # as orchestrator.policies.base (not imported: that package imports the spec)


@dataclass(frozen=True)
class Exploit:
    """Member `trial`, at its report `interval`, is replaced by a copy of member `donor` (its checkpoint and
    explored parameters); the numbers behind the choice are kept for the ledger."""

    trial: int
    interval: int
    donor: int
    value: float
    donor_value: float
    reason: str


class PopulationPolicy(Protocol):
    """A pure population rule (no I/O): the evaluator applies `decide`, the explored parameters go to the scheduler."""

    @property
    def name(self) -> str: ...

    def applies(self, interval: int) -> bool:
        """Whether a member is considered at this report interval."""
        ...

    def decide(self, trial: int, interval: int, latest: Mapping[int, float]) -> Exploit | None:
        """Replace `trial` (reporting its `interval`) by a better member, given each live member's latest value?"""
        ...

    def explore(self, params: Mapping[str, Any], expressions: Mapping[str, Any], exploit: Exploit) -> dict[str, Any]:
        """The donor's parameters, perturbed for the new member (deterministic per exploit)."""
        ...


def rank(latest: Mapping[int, float], goal: Goal) -> list[int]:
    """Members best first: by value as the goal says, NaN last, ties by trial number (so a replay ranks alike)."""

    def key(t: int) -> tuple[int, float, int]:
        v = latest[t]
        if math.isnan(v):
            return (1, 0.0, t)
        return (0, -v if goal == "maximize" else v, t)

    return sorted(latest, key=key)


def seeded(seed: int, *parts: object) -> random.Random:
    """A generator fixed by the seed and the decision's identity, so a re-evaluated report decides the same."""
    return random.Random(":".join(str(p) for p in (seed, *parts)))
