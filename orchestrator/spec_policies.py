"""The early_termination section of a sweep spec: one model per policy, told apart by `policy` (pure)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from orchestrator.spec_base import Frozen as _Frozen


class _Policy(_Frozen):
    evaluation_interval: int = Field(default=1, ge=1)
    delay_evaluation: int = Field(default=0, ge=0)


class BanditPolicy(_Policy):
    policy: Literal["bandit"]
    slack_factor: float | None = Field(default=None, gt=0)
    slack_amount: float | None = Field(default=None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _one_slack(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [k for k in ("slack_factor", "slack_amount") if data.get(k) is not None]
            if len(given) != 1:
                raise ValueError(f"bandit needs exactly one of slack_factor and slack_amount (got {given or 'neither'})")
        return data


class MedianPolicy(_Policy):
    policy: Literal["median"]


class TruncationPolicy(_Policy):
    policy: Literal["truncation"]
    truncation_percentage: int = Field(ge=1, le=99)
    exclude_finished_jobs: bool = False


class NoPolicy(_Policy):
    policy: Literal["none"]


class HyperbandPolicy(_Policy):
    """W&B's hyperband: brackets from min_iter * eta^k, or from max_iter / eta^k for k = 1..s."""

    policy: Literal["hyperband"]
    min_iter: int | None = Field(default=None, ge=1)
    max_iter: int | None = Field(default=None, ge=1)
    s: int | None = Field(default=None, ge=1)
    eta: float = Field(default=3, gt=1)
    strict: bool = False

    @model_validator(mode="after")
    def _iters(self) -> HyperbandPolicy:
        if self.min_iter is None and self.max_iter is None:
            raise ValueError("hyperband needs min_iter, or max_iter with s")
        if self.max_iter is not None and self.s is None:
            raise ValueError("hyperband with max_iter needs s (the number of brackets)")
        return self


class AshaPolicy(_Policy):
    policy: Literal["asha"]
    min_resource: int = Field(default=1, ge=1)
    reduction_factor: float = Field(default=3, gt=1)
    min_early_stopping_rate: int = Field(default=0, ge=0)


class OptunaPolicy(_Policy):
    policy: Literal["optuna"]
    pruner: Literal["median", "percentile", "successive_halving", "hyperband", "wilcoxon", "threshold", "patient"]
    args: dict[str, Any] = Field(default_factory=dict)


EarlyTermination = Annotated[
    BanditPolicy | MedianPolicy | TruncationPolicy | NoPolicy | HyperbandPolicy | AshaPolicy | OptunaPolicy,
    Field(discriminator="policy"),
]

