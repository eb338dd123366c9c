"""Quasi-random (Sobol) sampling: low-discrepancy points mapped through each expression's inverse CDF.

`method: sobol` predates `method: qmc`; it is the qmc sampler with the Sobol sequence, so both give the same points.
"""

from __future__ import annotations

from orchestrator.samplers.qmc import QmcSampler
from orchestrator.space import SearchSpace


class SobolSampler(QmcSampler):
    """Trial N takes the N-th point of a (scrambled, seeded) Sobol sequence."""

    def __init__(self, space: SearchSpace, seed: int | None, scramble: bool = True) -> None:
        super().__init__(space, seed, scramble, "sobol")
