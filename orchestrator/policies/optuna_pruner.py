"""Any Optuna pruner applied to the same metrics table, through a throwaway in-memory study.

The study is built from the table for each decision, so the pruner never touches sweepq's storage and the
decision stays a function of the table (Optuna's pruners otherwise read and write their study while deciding).
It has no incremental version (orchestrator.policies.incremental): Optuna's pruners read every trial of the study
they are given, so a decision costs O(trials) however the table is kept.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna

from orchestrator.policies.base import DEFAULT_SCHEDULE, Decision, Goal, Schedule, Table, clean, finite_or_none


def _patient(args: Mapping[str, Any]) -> optuna.pruners.BasePruner:
    rest = dict(args)
    wrapped = rest.pop("wrapped", None)
    inner = make_pruner(wrapped["pruner"], wrapped.get("args", {})) if isinstance(wrapped, Mapping) else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.pruners.PatientPruner(inner, **rest)


PRUNERS: dict[str, Callable[[Mapping[str, Any]], optuna.pruners.BasePruner]] = {
    "median": lambda a: optuna.pruners.MedianPruner(**a),
    "percentile": lambda a: optuna.pruners.PercentilePruner(**a),
    "successive_halving": lambda a: optuna.pruners.SuccessiveHalvingPruner(**a),
    "hyperband": lambda a: optuna.pruners.HyperbandPruner(**a),
    "wilcoxon": lambda a: optuna.pruners.WilcoxonPruner(**a),
    "threshold": lambda a: optuna.pruners.ThresholdPruner(**a),
    "patient": _patient,
}


def make_pruner(name: str, args: Mapping[str, Any]) -> optuna.pruners.BasePruner:
    """The Optuna pruner called `name` with keyword arguments `args` (TypeError/ValueError name a bad one)."""
    return PRUNERS[name](dict(args))


@dataclass(frozen=True)
class OptunaPruner:
    goal: Goal
    pruner_name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    schedule: Schedule = DEFAULT_SCHEDULE
    name: str = "optuna"

    def applies(self, interval: int) -> bool:
        return self.schedule.applies(interval)

    def decide(self, table: Table, trial: int, interval: int) -> Decision:
        study = optuna.create_study(direction=self.goal, pruner=make_pruner(self.pruner_name, self.args))
        for number, curve in sorted(table.items()):
            if number == trial:
                continue
            steps = {i + 1: clean(v, self.goal) for i, v in enumerate(curve.values)}
            if curve.finished and steps:
                study.add_trial(optuna.trial.create_trial(value=steps[max(steps)], intermediate_values=steps))
            else:
                study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.RUNNING, intermediate_values=steps))
        mine = {i + 1: clean(v, self.goal) for i, v in enumerate(table[trial].values[:interval])}
        study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.RUNNING, intermediate_values=mine))
        frozen = study.get_trials(deepcopy=False)[-1]
        stop = bool(study.pruner.prune(study, frozen))
        value = mine.get(interval, math.nan)
        reason = f"optuna {type(study.pruner).__name__}: {'prune' if stop else 'continue'}"
        return Decision(trial, interval, stop, finite_or_none(value), None, reason)
