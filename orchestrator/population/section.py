"""The `population` section of a sweep spec (pure): population-based training's settings, and what it refuses.

A section rather than a sampling method, because PBT composes with sampling: the spec's sampler draws the
initial population (random, sobol, ...), and PBT then replaces members; it is the sweep's only stopping rule, so
it takes the place of early_termination rather than of sampling.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from orchestrator.spec_base import Frozen


class PbtSection(Frozen):
    """`population: {policy: pbt, size: 8, perturbation_interval: 4, quantile_fraction: 0.25, ...}`."""

    policy: Literal["pbt"]
    size: int = Field(ge=2, le=1000, description="members running at once (the sweep's concurrency)")
    perturbation_interval: int = Field(ge=1, description="a member is considered every this many of its reports")
    quantile_fraction: float = Field(default=0.25, gt=0, le=0.5, description="bottom/top fraction exploited/donating")
    resample_probability: float = Field(default=0.25, ge=0, le=1, description="chance a parameter is redrawn")
    seed: int = Field(default=0, description="seeds the donor choice and the exploration (a restart decides alike)")


def refusal(spec: Any) -> str | None:
    """Why a spec's population section cannot run, or None (called by SweepSpec's validator)."""
    pop = spec.population
    if pop is None:
        return None
    if spec.metric is None:
        return "population: pbt ranks members by a metric: give metric {name, goal}"
    if len(spec.objectives) > 1:
        return "population: pbt ranks members by one metric; it cannot be combined with metrics (several objectives)"
    if spec.early_termination.policy != "none":
        return "population: pbt is the sweep's stopping rule; remove early_termination"
    limit = spec.limits.max_concurrent_runs
    if limit is not None and limit != pop.size:
        return f"population: size ({pop.size}) is the sweep's concurrency; limits.max_concurrent_runs ({limit}) differs"
    return None
