"""Random sampling: trial N's parameters depend only on the seed and N, so restarts reproduce them."""

from __future__ import annotations

import random
from typing import Any

from orchestrator.samplers.base import TrialRecord
from orchestrator.space import SearchSpace


class RandomSampler:
    """Independent draws from each expression's distribution."""

    def __init__(self, space: SearchSpace, seed: int | None) -> None:
        self.space = space
        self.seed = 0 if seed is None else seed

    def ask(self, number: int) -> dict[str, Any]:
        # One generator per trial, seeded from (seed, number): the same seed gives the same sequence,
        # whatever the order in which trials are asked or how often the scheduler restarts.
        return self.space.sample(random.Random(f"sweepq:{self.seed}:{number}"))

    def observe(self, record: TrialRecord) -> None:
        """Random sampling learns nothing from results."""

    def remaining(self) -> int | None:
        return None
