"""Early-termination policies, one per module, and the registry that builds one from a spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.policies.asha import Asha
from orchestrator.policies.bandit import Bandit
from orchestrator.policies.base import Curve, Decision, Goal, Policy, Schedule, Table
from orchestrator.policies.hyperband import Hyperband, bands
from orchestrator.policies.median import Median
from orchestrator.policies.none import NoTermination
from orchestrator.policies.optuna_pruner import OptunaPruner
from orchestrator.policies.truncation import Truncation
from orchestrator.spec import SweepSpec


def _bandit(p: Any, goal: Goal, s: Schedule) -> Policy:
    return Bandit(goal, p.slack_factor, p.slack_amount, s)


def _hyperband(p: Any, goal: Goal, s: Schedule) -> Policy:
    return Hyperband(goal, tuple(bands(p.min_iter, p.max_iter, p.s, p.eta)), p.eta, p.strict, s)


POLICIES: dict[str, Callable[[Any, Goal, Schedule], Policy]] = {
    "none": lambda p, goal, s: NoTermination(),
    "bandit": _bandit,
    "median": lambda p, goal, s: Median(goal, s),
    "truncation": lambda p, goal, s: Truncation(goal, p.truncation_percentage, p.exclude_finished_jobs, s),
    "hyperband": _hyperband,
    "asha": lambda p, goal, s: Asha(goal, p.min_resource, p.reduction_factor, p.min_early_stopping_rate, s),
    "optuna": lambda p, goal, s: OptunaPruner(goal, p.pruner, p.args, s),
}


def create_policy(spec: SweepSpec) -> Policy:
    """The spec's early-termination policy, with its evaluation schedule."""
    p = spec.early_termination
    schedule = Schedule(p.evaluation_interval, p.delay_evaluation)
    return POLICIES[p.policy](p, spec.metric.goal if spec.metric else "maximize", schedule)


__all__ = [
    "POLICIES", "Asha", "Bandit", "Curve", "Decision", "Goal", "Hyperband", "Median", "NoTermination",
    "OptunaPruner", "Policy", "Schedule", "Table", "Truncation", "bands", "create_policy",
]
