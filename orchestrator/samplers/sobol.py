"""Quasi-random (Sobol) sampling: low-discrepancy points mapped through each expression's inverse CDF."""

from __future__ import annotations

from typing import Any

from scipy.stats import qmc

from orchestrator.samplers.base import TrialRecord
from orchestrator.space import SearchSpace


class SobolSampler:
    """Trial N takes the N-th point of a (scrambled, seeded) Sobol sequence."""

    def __init__(self, space: SearchSpace, seed: int | None, scramble: bool = True) -> None:
        self.space = space
        self.seed = seed
        self.scramble = scramble
        self._points: list[list[float]] = []

    def _point(self, n: int) -> list[float]:
        if n >= len(self._points):
            size = 1 << max(n, 1).bit_length()  # powers of two keep the sequence balanced
            engine = qmc.Sobol(d=len(self.space.names), scramble=self.scramble, seed=self.seed)
            self._points = [list(map(float, row)) for row in engine.random(size)]
        return self._points[n]

    def ask(self, number: int) -> dict[str, Any]:
        return self.space.from_unit(self._point(number))

    def observe(self, record: TrialRecord) -> None:
        """Sobol sampling learns nothing from results."""

    def remaining(self) -> int | None:
        return None
