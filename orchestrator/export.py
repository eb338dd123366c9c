"""A sweep as Optuna trials: for `sweepq export --optuna STORAGE` and the parameter-importance chart.

Parameters use the same Optuna distributions as the bayesian sampler (normal-family expressions appear as
quantiles there); each trial keeps its real parameter values in the user attribute `params`. States map as
completed → COMPLETE, stopped → PRUNED, failed and canceled → FAIL, running → RUNNING, queued → WAITING.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState, create_trial

from orchestrator.ranking import Ranking
from orchestrator.spec import SweepSpec

Rows = Sequence[Mapping[str, Any]]

STATES = {
    "completed": TrialState.COMPLETE,
    "stopped": TrialState.PRUNED,
    "failed": TrialState.FAIL,
    "canceled": TrialState.FAIL,
    "running": TrialState.RUNNING,
    "queued": TrialState.WAITING,
}


def curves(reports: Rows, trials: Rows, metric: str) -> dict[int, dict[int, float]]:
    """Each trial's primary metric by interval (1, 2, ...), for its latest attempt only."""
    attempts = {t["number"]: t.get("attempt") or 1 for t in trials}
    out: dict[int, dict[int, float]] = {}
    for r in reports:
        value = (r.get("values") or {}).get(metric)
        if r["attempt"] != attempts.get(r["trial"]) or value is None:
            continue
        steps = out.setdefault(r["trial"], {})
        steps[len(steps) + 1] = float(value)
    return out


def to_frozen_trials(spec: SweepSpec, trials: Rows, reports: Rows) -> list[FrozenTrial]:
    """Optuna's view of the sweep's trials: each valued as metric.summary ranks it (a completed trial without a
    finite value becomes FAIL)."""
    views = {name: expr.optuna() for name, expr in spec.space.expressions.items()}
    ranking = Ranking.of(spec.metric)
    by_trial = {} if spec.metric is None else curves(reports, trials, spec.metric.name)
    frozen = []
    for t in trials:
        params = t.get("params") or {}
        state = STATES.get(str(t.get("status")), TrialState.FAIL)
        raw = None if ranking is None else ranking.raw(t)  # an infeasible trial keeps its value, marked below
        violations = (None if ranking is None else ranking.violations(t)) if state == TrialState.COMPLETE else None
        value = raw if raw is not None and math.isfinite(raw) else None
        if state == TrialState.COMPLETE and value is None:
            state = TrialState.FAIL
        intermediate = {k: v for k, v in by_trial.get(t["number"], {}).items() if math.isfinite(v)}
        frozen.append(
            create_trial(
                state=state,
                value=value if state == TrialState.COMPLETE else None,
                params={n: views[n].to_internal(v) for n, v in params.items() if n in views},
                distributions={n: views[n].distribution for n in params if n in views},
                intermediate_values=intermediate,
                user_attrs={"sweepq_trial": t["number"], "params": params, "status": t.get("status")},
                system_attrs={f"constraints:{i}": v for i, v in enumerate(violations or ())},  # Trial.set_constraint's
            )
        )
    return frozen


def export_to_optuna(
    spec: SweepSpec, sweep_id: str, trials: Rows, reports: Rows, storage: str | None, study_name: str | None = None
) -> optuna.Study:
    """Write the sweep into an Optuna storage (a new study named after the sweep) and return the study.

    ValueError for a sweep without a metric: an Optuna study holds no completed trial without a value."""
    if spec.metric is None:
        raise ValueError("this sweep has no metric: an Optuna study needs one")
    study = optuna.create_study(storage=storage, study_name=study_name or sweep_id, direction=spec.metric.goal)
    study.set_user_attr("sweepq_sweep", sweep_id)
    study.add_trials(to_frozen_trials(spec, trials, reports))
    return study


def importances(spec: SweepSpec, trials: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """fANOVA parameter importances from the finished trials; empty when there are too few to tell."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if spec.metric is None:
        return {}  # nothing to explain without a metric
    study = optuna.create_study(direction=spec.metric.goal)
    study.add_trials(to_frozen_trials(spec, trials, []))
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if len(complete) < 2 or len(spec.space.names) < 1:
        return {}
    try:
        return {k: float(v) for k, v in optuna.importance.get_param_importances(study).items()}
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}
