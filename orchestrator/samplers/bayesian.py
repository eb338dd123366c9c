"""Bayesian sampling: Optuna's TPE driven ask/tell, with constant liar so parallel trials spread out.

Every expression is accepted: those without an Optuna twin (normal family, quantized log) are sampled
through their quantile or their continuous parent and mapped back, which keeps TPE's prior the user's.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import optuna
from optuna.trial import TrialState, create_trial

from orchestrator.samplers.base import TrialRecord
from orchestrator.space import SearchSpace


class BayesianSampler:
    """TPE over the search space; trials of this sweep or of warm-start sweeps are replayed as history."""

    def __init__(
        self,
        space: SearchSpace,
        goal: str,
        seed: int | None,
        n_startup_trials: int = 10,
        multivariate: bool = False,
        directions: Sequence[str] = (),
        group: bool = False,
    ) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.group = group
        self.views = {name: expr.optuna() for name, expr in space.expressions.items()}
        self.distributions = {name: view.distribution for name, view in self.views.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = self.make_sampler(seed, n_startup_trials, multivariate)
        goals = list(directions) or [goal]
        self.multi = len(goals) > 1
        self.study = optuna.create_study(directions=[_direction(g) for g in goals], sampler=sampler)
        self._numbers: dict[tuple[str, int], int] = {}
        self._told: set[tuple[str, int]] = set()

    def make_sampler(self, seed: int | None, n_startup_trials: int, multivariate: bool) -> optuna.samplers.BaseSampler:
        return optuna.samplers.TPESampler(
            seed=seed, constant_liar=True, n_startup_trials=n_startup_trials, multivariate=multivariate, group=self.group
        )

    def ask(self, number: int) -> dict[str, Any]:
        trial = self.study.ask(self.distributions)
        self._numbers[("", number)] = trial.number
        return {name: view.to_value(trial.params[name]) for name, view in self.views.items()}

    def observe(self, record: TrialRecord) -> None:
        key = (record.source, record.number)
        if key not in self._numbers and not self._add(record, key):
            return
        if record.finished and key not in self._told:
            self._told.add(key)
            raw = list(record.values or ()) if self.multi else [record.value]
            values = [float(v) for v in raw if v is not None and math.isfinite(v)]
            if record.state in ("completed", "stopped") and len(values) == len(self.study.directions):
                self._constrain(self._numbers[key], record.constraints)
                self.study.tell(self._numbers[key], values if self.multi else values[0])
            else:
                self.study.tell(self._numbers[key], state=TrialState.FAIL)

    def _constrain(self, number: int, violations: Sequence[float] | None) -> None:
        """Tell Optuna the trial's constraint violations (as Trial.set_constraint does), before it is told done."""
        storage = self.study._storage
        trial_id = storage.get_trial_id_from_study_id_trial_number(self.study._study_id, number)
        for i, v in enumerate(violations or ()):
            storage.set_trial_system_attr(trial_id, f"constraints:{i}", float(v))

    def _add(self, record: TrialRecord, key: tuple[str, int]) -> bool:
        try:
            internal = {n: v.to_internal(record.params[n]) for n, v in self.views.items()}
            frozen = create_trial(state=TrialState.RUNNING, params=internal, distributions=self.distributions)
        except (KeyError, ValueError, TypeError):
            return False  # a warm-start trial from a space this one cannot express: nothing to learn
        self.study.add_trial(frozen)
        self._numbers[key] = len(self.study.get_trials(deepcopy=False)) - 1
        return True

    def remaining(self) -> int | None:
        return None


def _direction(goal: str) -> Literal["maximize", "minimize"]:
    return "maximize" if goal == "maximize" else "minimize"
