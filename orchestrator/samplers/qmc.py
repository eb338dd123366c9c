"""Quasi-Monte Carlo sampling: point N of a (scrambled, seeded) Sobol or Halton sequence, through each
expression's inverse CDF, so every expression is supported and trial N's point depends only on (seed, N).

scipy's engines rather than Optuna's QMCSampler: Optuna's draws its first trial at random and keeps the sequence
position in study attributes, which a sampler rebuilt from the trial history would not have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from orchestrator.samplers.base import TrialRecord
from orchestrator.space import SearchSpace

if TYPE_CHECKING:
    from scipy.stats import qmc


class QmcSampler:
    """Trial N takes the N-th point of the sequence; restarts and out-of-order asks give the same points."""

    def __init__(
        self, space: SearchSpace, seed: int | None, scramble: bool = True, qmc_type: Literal["sobol", "halton"] = "sobol"
    ) -> None:
        self.space = space
        self.seed = seed
        self.scramble = scramble
        self.qmc_type = qmc_type
        self._points: list[list[float]] = []

    def _engine(self) -> qmc.QMCEngine:
        from scipy.stats import qmc  # on first use: scipy.stats takes over a second to import, which every process
        # that loads the samplers (the CLI, workers, trials) would pay

        d = len(self.space.names)
        if self.qmc_type == "halton":
            return qmc.Halton(d=d, scramble=self.scramble, seed=self.seed)
        return qmc.Sobol(d=d, scramble=self.scramble, seed=self.seed)

    def _point(self, n: int) -> list[float]:
        if n >= len(self._points):
            size = 1 << max(n, 1).bit_length()  # powers of two keep a Sobol sequence balanced
            self._points = [list(map(float, row)) for row in self._engine().random(size)]
        return self._points[n]

    def ask(self, number: int) -> dict[str, Any]:
        return self.space.from_unit(self._point(number))

    def observe(self, record: TrialRecord) -> None:
        """QMC sampling learns nothing from results."""

    def remaining(self) -> int | None:
        return None
