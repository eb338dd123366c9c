"""The sampling section of a sweep spec: one model per method, told apart by `method` (pure)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from orchestrator.spec_base import Frozen as _Frozen


class RandomSampling(_Frozen):
    method: Literal["random"] = "random"
    seed: int | None = None


class GridSampling(_Frozen):
    method: Literal["grid"]


class BayesianSampling(_Frozen):
    method: Literal["bayesian"]
    seed: int | None = None
    n_startup_trials: int = Field(default=10, ge=0, description="random trials before TPE takes over")
    multivariate: bool = False
    group: bool = Field(default=False, description="multivariate TPE per group of parameters sampled together")

    @model_validator(mode="after")
    def _group_needs_multivariate(self) -> BayesianSampling:
        if self.group and not self.multivariate:
            raise ValueError("group: true needs multivariate: true (TPE groups are multivariate)")
        return self


class GpSampling(_Frozen):
    """Optuna's Gaussian-process sampler (needs the `gp` extra: torch)."""

    method: Literal["gp"]
    seed: int | None = None
    n_startup_trials: int = Field(default=10, ge=0, description="random trials before the GP takes over")
    deterministic_objective: bool = Field(default=False, description="the metric has no noise")


class CmaEsSampling(_Frozen):
    """Optuna's CMA-ES: numeric parameters only, one objective, no constraints (it ignores them)."""

    method: Literal["cmaes"]
    seed: int | None = None
    n_startup_trials: int = Field(default=1, ge=0)
    popsize: int | None = Field(default=None, ge=2, description="trials per generation; default 4 + 3 ln(dims)")
    use_separable_cma: bool = False
    with_margin: bool = Field(default=False, description="CMA-ES with margin, for integer and quantized parameters")
    lr_adapt: bool = Field(default=False, description="learning-rate adaptation, for noisy or multimodal metrics")

    @model_validator(mode="after")
    def _compatible(self) -> CmaEsSampling:
        if self.use_separable_cma and (self.with_margin or self.lr_adapt):
            raise ValueError("use_separable_cma cannot be combined with with_margin or lr_adapt")
        if self.with_margin and self.lr_adapt:
            raise ValueError("with_margin cannot be combined with lr_adapt")
        return self


class QmcSampling(_Frozen):
    """Quasi-Monte Carlo: trial N takes point N of a Sobol or Halton sequence."""

    method: Literal["qmc"]
    qmc_type: Literal["sobol", "halton"] = "sobol"
    scramble: bool = True
    seed: int | None = None


class AutoSampling(_Frozen):
    """Picks gp, cmaes or bayesian from the space and the budget (README: sampling)."""

    method: Literal["auto"]
    seed: int | None = None


class SobolSampling(_Frozen):
    method: Literal["sobol"]
    seed: int | None = None
    scramble: bool = True


class Nsga2Sampling(_Frozen):
    """Optuna's NSGA-II: the genetic sampler for multi-objective sweeps (single-objective works too)."""

    method: Literal["nsga2"]
    seed: int | None = None
    population_size: int = Field(default=50, ge=2)


METRIC_SAMPLERS = frozenset({"bayesian", "nsga2", "gp", "cmaes", "auto"})  # samplers that learn from the metric

Sampling = Annotated[
    RandomSampling
    | GridSampling
    | BayesianSampling
    | SobolSampling
    | Nsga2Sampling
    | GpSampling
    | CmaEsSampling
    | QmcSampling
    | AutoSampling,
    Field(discriminator="method"),
]

