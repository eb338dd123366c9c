"""CMA-ES sampling: Optuna's CmaEsSampler, driven ask/tell like TPE, warm-started from history on a rebuild.

Numeric expressions only (the spec refuses choices: CMA-ES would sample them at random, apart from the rest),
one objective, no constraints (CMA-ES ignores them). Optuna keeps the CMA state in its own trials' attributes,
which a rebuilt sampler does not have: when it starts with 10 or more replayed completed trials (a scheduler
restart, or resume_from), its first generation is fitted to them (WS-CMA-ES, Optuna's `source_trials`) instead
of starting over from the centre. IPOP restarts: Optuna 4.4 deprecated `restart_strategy` (it is ignored), so
there is no restart option.
"""

from __future__ import annotations

import warnings
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState, create_trial

from orchestrator.samplers.bayesian import BayesianSampler
from orchestrator.space import SearchSpace

WARM_START_MIN = 10  # WS-CMA-ES fits its start to the best tenth of the source trials: it needs ten


class CmaEsSampler(BayesianSampler):
    """Optuna's CmaEsSampler over the numeric parameters of the space."""

    def __init__(self, space: SearchSpace, goal: str, seed: int | None, options: dict[str, Any] | None = None) -> None:
        self.options = dict(options or {})
        self.seed = seed
        self._started = False
        super().__init__(space, goal, seed, int(self.options.pop("n_startup_trials", 1)))

    def make_sampler(self, seed: int | None, n_startup_trials: int, multivariate: bool) -> optuna.samplers.BaseSampler:
        self.n_startup_trials = n_startup_trials
        return self._cma(None)

    def _cma(self, source: list[FrozenTrial] | None) -> optuna.samplers.BaseSampler:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.CmaEsSampler(
                seed=self.seed, n_startup_trials=self.n_startup_trials, source_trials=source,
                warn_independent_sampling=False, **self.options,
            )

    def ask(self, number: int) -> dict[str, Any]:
        if not self._started:
            self._started = True
            source = self._history()
            if len(source) >= WARM_START_MIN and not self.options.get("use_separable_cma"):
                self.study.sampler = self._cma(source)
        return super().ask(number)

    def _history(self) -> list[FrozenTrial]:
        """Completed trials so far, over the parameters CMA-ES models (numeric ones with more than one value)."""
        dists: dict[str, BaseDistribution] = {n: d for n, d in self.distributions.items() if not d.single()}
        done = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        return [
            create_trial(params={n: t.params[n] for n in dists}, distributions=dists, value=t.value)
            for t in done
            if t.value is not None and all(n in t.params for n in dists)
        ]
