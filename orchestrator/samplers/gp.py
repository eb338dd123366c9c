"""Gaussian-process sampling: Optuna's GPSampler (needs PyTorch, the `gp` extra), driven ask/tell like TPE.

Every expression is accepted through the same Optuna views as bayesian sampling (choices are categorical, which
the GP handles; the normal family through its quantile). It learns from constraints and several objectives.
"""

from __future__ import annotations

from collections.abc import Sequence

import optuna

from orchestrator.samplers.auto import GP_EXTRA, gp_available
from orchestrator.samplers.bayesian import BayesianSampler
from orchestrator.space import SearchSpace


class GpSampler(BayesianSampler):
    """Optuna's GPSampler; running trials are taken into account by the sampler itself."""

    def __init__(
        self,
        space: SearchSpace,
        goal: str,
        seed: int | None,
        n_startup_trials: int = 10,
        deterministic_objective: bool = False,
        directions: Sequence[str] = (),
    ) -> None:
        if not gp_available():
            raise RuntimeError(f"gp sampling needs PyTorch: {GP_EXTRA}")
        self.deterministic_objective = deterministic_objective
        super().__init__(space, goal, seed, n_startup_trials, False, directions)

    def make_sampler(self, seed: int | None, n_startup_trials: int, multivariate: bool) -> optuna.samplers.BaseSampler:
        return optuna.samplers.GPSampler(
            seed=seed, n_startup_trials=n_startup_trials, deterministic_objective=self.deterministic_objective
        )
