"""Samplers, one algorithm per module, and the registry that builds one from a spec."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from orchestrator.samplers.auto import choose
from orchestrator.samplers.base import FINISHED, Sampler, TrialRecord, TrialState
from orchestrator.samplers.bayesian import BayesianSampler
from orchestrator.samplers.cmaes import CmaEsSampler
from orchestrator.samplers.gp import GpSampler
from orchestrator.samplers.grid import GridSampler
from orchestrator.samplers.nsga2 import Nsga2Sampler
from orchestrator.samplers.qmc import QmcSampler
from orchestrator.samplers.random import RandomSampler
from orchestrator.samplers.sobol import SobolSampler
from orchestrator.spec import SweepSpec
from orchestrator.spec_sampling import (
    AutoSampling,
    BayesianSampling,
    CmaEsSampling,
    GpSampling,
    GridSampling,
    Nsga2Sampling,
    QmcSampling,
    RandomSampling,
    SobolSampling,
)


def _random(spec: SweepSpec) -> Sampler:
    assert isinstance(spec.sampling, RandomSampling)
    return RandomSampler(spec.space, spec.sampling.seed)


def _grid(spec: SweepSpec) -> Sampler:
    assert isinstance(spec.sampling, GridSampling)
    return GridSampler(spec.space)


def _directions(spec: SweepSpec) -> list[str]:
    return [o.goal for o in spec.objectives]


def _goal(spec: SweepSpec) -> str:
    """The goal of a sampler that learns from the metric (the spec refuses such a sampler without one)."""
    if spec.metric is None:
        raise ValueError(f"{spec.sampling.method} sampling needs a metric")
    return spec.metric.goal


def _bayesian(spec: SweepSpec) -> Sampler:
    s = spec.sampling
    assert isinstance(s, BayesianSampling)
    return BayesianSampler(
        spec.space, _goal(spec), s.seed, s.n_startup_trials, s.multivariate, _directions(spec), group=s.group
    )


def _gp(spec: SweepSpec) -> Sampler:
    s = spec.sampling
    assert isinstance(s, GpSampling)
    return GpSampler(spec.space, _goal(spec), s.seed, s.n_startup_trials, s.deterministic_objective, _directions(spec))


def _cmaes(spec: SweepSpec) -> Sampler:
    s = spec.sampling
    assert isinstance(s, CmaEsSampling)
    return CmaEsSampler(spec.space, _goal(spec), s.seed, s.model_dump(exclude={"method", "seed"}))


def _qmc(spec: SweepSpec) -> Sampler:
    s = spec.sampling
    assert isinstance(s, QmcSampling)
    return QmcSampler(spec.space, s.seed, s.scramble, s.qmc_type)


def auto_method(spec: SweepSpec) -> str:
    """The method `auto` runs for this spec (samplers/auto.py has the rule)."""
    return choose(spec.space, spec.total_runs, len(spec.objectives), bool(spec.constraints))


def _auto(spec: SweepSpec) -> Sampler:
    s = spec.sampling
    assert isinstance(s, AutoSampling)
    method = auto_method(spec)
    if method == "gp":
        return GpSampler(spec.space, _goal(spec), s.seed, directions=_directions(spec))
    if method == "cmaes":
        return CmaEsSampler(spec.space, _goal(spec), s.seed)
    return BayesianSampler(spec.space, _goal(spec), s.seed, multivariate=True, directions=_directions(spec))


def _nsga2(spec: SweepSpec) -> Sampler:
    s = spec.sampling
    assert isinstance(s, Nsga2Sampling)

    size = s.population_size

    class Configured(Nsga2Sampler):
        population_size = size

    return Configured(spec.space, _goal(spec), s.seed, directions=_directions(spec))


def _sobol(spec: SweepSpec) -> Sampler:
    assert isinstance(spec.sampling, SobolSampling)
    return SobolSampler(spec.space, spec.sampling.seed, spec.sampling.scramble)


SAMPLERS: dict[str, Callable[[SweepSpec], Sampler]] = {
    "random": _random,
    "grid": _grid,
    "bayesian": _bayesian,
    "sobol": _sobol,
    "nsga2": _nsga2,
    "gp": _gp,
    "cmaes": _cmaes,
    "qmc": _qmc,
    "auto": _auto,
}


def create_sampler(spec: SweepSpec, history: Iterable[TrialRecord] = ()) -> Sampler:
    """A sampler for the spec's method, brought up to date with the given trials (for restarts)."""
    sampler = SAMPLERS[spec.sampling.method](spec)
    for record in history:
        sampler.observe(record)
    return sampler


__all__ = [
    "FINISHED",
    "SAMPLERS",
    "BayesianSampler",
    "CmaEsSampler",
    "GpSampler",
    "GridSampler",
    "Nsga2Sampler",
    "QmcSampler",
    "RandomSampler",
    "Sampler",
    "SobolSampler",
    "TrialRecord",
    "TrialState",
    "auto_method",
    "create_sampler",
]
