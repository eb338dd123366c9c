"""NSGA-II (Optuna's genetic multi-objective sampler), driven ask/tell like the bayesian sampler."""

from __future__ import annotations

import optuna

from orchestrator.samplers.bayesian import BayesianSampler


class Nsga2Sampler(BayesianSampler):
    population_size = 50

    def make_sampler(self, seed: int | None, n_startup_trials: int, multivariate: bool) -> optuna.samplers.BaseSampler:
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=self.population_size)
