"""Which sampler fits a sweep (pure): the `auto` rule, and the refusals of samplers that cannot serve a spec.

The auto rule (README "sampling"; measured by benchmarks/samplers.py):
- at most GP_MAX_DIMS parameters, a budget of at most GP_MAX_BUDGET trials, and PyTorch installed: `gp` (a
  Gaussian process is the most sample-efficient there, choices included, and its cost per trial grows with the
  trials seen);
- numeric only, one objective, no constraints, a budget above GP_MAX_BUDGET (or none, a sweep bound by time):
  `cmaes`, which scales to long runs at a constant cost per trial;
- anything else (larger spaces, choices, several objectives or constraints past the GP's budget, or no
  PyTorch): multivariate TPE (`bayesian`).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from typing import TYPE_CHECKING

from optuna.distributions import CategoricalDistribution

from orchestrator.space import SearchSpace

if TYPE_CHECKING:
    from orchestrator.spec import SweepSpec

GP_MAX_DIMS = 20
GP_MAX_BUDGET = 200
GP_EXTRA = "pip install 'sweepq[gp]' (PyTorch, CPU build is enough)"
LEARNS_CONSTRAINTS = frozenset({"bayesian", "nsga2", "gp", "auto"})


@cache
def gp_available() -> bool:
    """Whether PyTorch, which Optuna's GPSampler needs, can be imported here."""
    return importlib.util.find_spec("torch") is not None


def categorical(space: SearchSpace) -> list[str]:
    """Parameters Optuna sees as a categorical of two or more values (choice, or an indexed choice)."""
    out = []
    for name, expr in space.expressions.items():
        dist = expr.optuna().distribution
        if isinstance(dist, CategoricalDistribution) and len(dist.choices) > 1:
            out.append(name)
    return out


def choose(
    space: SearchSpace, budget: int | None, objectives: int = 1, constrained: bool = False, gp_ok: bool | None = None
) -> str:
    """The method `auto` runs: gp, cmaes or bayesian, by the rule in this module's docstring."""
    gp_ok = gp_available() if gp_ok is None else gp_ok
    numeric = not categorical(space)
    small = budget is not None and budget <= GP_MAX_BUDGET
    if gp_ok and small and len(space.names) <= GP_MAX_DIMS:
        return "gp"
    if numeric and objectives == 1 and not constrained and not small:
        return "cmaes"
    return "bayesian"


def refusal(spec: SweepSpec) -> str | None:
    """Why the spec's sampler cannot serve its space, objectives or constraints; None when it can."""
    method = spec.sampling.method
    if method == "gp" and not gp_available():
        return f"sampling.method: gp needs PyTorch, which is not installed: {GP_EXTRA}"
    if spec.constraints and spec.metric is not None and method not in LEARNS_CONSTRAINTS and method in _LEARNING:
        return (
            f"constraints: {method} sampling cannot learn from constraints (Optuna's sampler ignores them); "
            "use bayesian, gp, nsga2 or auto"
        )
    if method != "cmaes":
        return None
    if len(spec.objectives) > 1:
        return "sampling.method: cmaes optimizes one objective; use bayesian, gp or nsga2 for several metrics"
    for name in categorical(spec.space):
        expr = spec.space.expressions[name].describe()
        return (
            f"parameters.{name}: {expr} is categorical, which CMA-ES cannot model (Optuna would sample it at random, "
            "apart from the rest); use bayesian, gp or auto, or a numeric expression"
        )
    return None


_LEARNING = frozenset({"cmaes"})  # samplers that learn from the metric but not from constraints
