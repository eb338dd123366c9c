"""HyperDrive's configuration classes with its argument names and defaults, each mapping to a piece of sweepq spec.

Signatures follow `azureml-train-core` / `azureml-core` (SDK v1): positional order, names and defaults. Extras sweepq
adds are keyword-only. Arguments that only make sense on Azure (estimator, pipeline, docker and distributed job
configs) are refused with NotInSweepq when given; the others (environment, custom_run_id, debug_flag) are accepted
and ignored: the worker's own Python runs the script.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.hyperdrive.errors import NotInSweepq

MAX_DURATION_MINUTES = 10080  # HyperDriveConfig's default: a week
MAX_DURATION_SECONDS_DEFAULT = 2592000  # ScriptRunConfig's default: 30 days
SINGLE_RUN_PARAMETER = "single_run"  # the one-trial sweep behind Experiment.submit(ScriptRunConfig): never passed


def _space(parameter_space: Mapping[str, Any]) -> dict[str, Any]:
    """HyperDrive keys may carry the leading '--' of the argument; sweepq names the parameter without it."""
    return {name.lstrip("-"): expr for name, expr in parameter_space.items()}


@dataclass
class RandomParameterSampling:
    parameter_space: Mapping[str, Any]
    properties: Mapping[str, Any] | None = None

    def to_spec(self) -> dict[str, Any]:
        seed = (self.properties or {}).get("seed")
        return {"method": "random", **({"seed": seed} if seed is not None else {})}


@dataclass
class GridParameterSampling:
    parameter_space: Mapping[str, Any]
    properties: Mapping[str, Any] | None = None

    def to_spec(self) -> dict[str, Any]:
        return {"method": "grid"}


@dataclass
class BayesianParameterSampling:
    parameter_space: Mapping[str, Any]
    properties: Mapping[str, Any] | None = None

    def to_spec(self) -> dict[str, Any]:
        return {"method": "bayesian"}


@dataclass
class BanditPolicy:
    evaluation_interval: int = 1
    slack_factor: float | None = None
    slack_amount: float | None = None
    delay_evaluation: int = 0

    def to_spec(self) -> dict[str, Any]:
        slack = {"slack_factor": self.slack_factor} if self.slack_factor is not None else {"slack_amount": self.slack_amount}
        return {"policy": "bandit", **slack, **_schedule(self)}


@dataclass
class MedianStoppingPolicy:
    evaluation_interval: int = 1
    delay_evaluation: int = 0

    def to_spec(self) -> dict[str, Any]:
        return {"policy": "median", **_schedule(self)}


@dataclass
class TruncationSelectionPolicy:
    truncation_percentage: int
    evaluation_interval: int = 1
    delay_evaluation: int = 0
    exclude_finished_jobs: bool = field(default=False, kw_only=True)  # sweepq extra; HyperDrive fixes it to False

    def to_spec(self) -> dict[str, Any]:
        return {"policy": "truncation", "truncation_percentage": self.truncation_percentage,
                "exclude_finished_jobs": self.exclude_finished_jobs, **_schedule(self)}


@dataclass
class NoTerminationPolicy:
    def to_spec(self) -> dict[str, Any]:
        return {"policy": "none"}


def _schedule(policy: Any) -> dict[str, int]:
    return {"evaluation_interval": policy.evaluation_interval, "delay_evaluation": policy.delay_evaluation}


class PrimaryMetricGoal(enum.StrEnum):
    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"


@dataclass
class ComputeTarget:
    """A compute target is a sweepq queue: `ComputeTarget(workspace=ws, name="gpu")` sends trials to workers
    started with `sweepq worker --queues gpu`. Nothing is provisioned."""

    workspace: Any = None
    name: str = "cpu"


@dataclass
class DockerSection:
    """Environment.docker: settable, ignored."""

    enabled: bool = False
    base_image: str | None = None


@dataclass
class Environment:
    """Accepted and ignored: trials run with the worker's own Python and packages."""

    name: str = "sweepq-worker"
    version: str | None = None
    docker: DockerSection = field(default_factory=DockerSection)

    @staticmethod
    def get(workspace: Any, name: str, version: str | None = None, label: str | None = None) -> Environment:
        return Environment(name, version)

    @staticmethod
    def from_conda_specification(name: str, file_path: str) -> Environment:
        return Environment(name)

    @staticmethod
    def from_pip_requirements(name: str, file_path: str) -> Environment:
        return Environment(name)


def queue_of(compute_target: Any) -> str | None:
    """The queue a compute target names: a string, or an object's `name` (None: the default queue)."""
    if compute_target is None:
        return None
    return str(compute_target if isinstance(compute_target, str) else getattr(compute_target, "name", compute_target))


@dataclass
class ScriptRunConfig:
    """The training script: `python <script> <arguments...>` run in the trial's own copy of `source_directory`."""

    source_directory: str
    script: str | None = None
    arguments: Sequence[Any] | None = None
    run_config: Any = None
    _telemetry_values: Any = None
    compute_target: Any = None
    environment: Any = None
    distributed_job_config: Any = None
    resume_from: Any = None
    max_run_duration_seconds: int = MAX_DURATION_SECONDS_DEFAULT
    command: Sequence[Any] | None = None
    docker_runtime_config: Any = None

    def __post_init__(self) -> None:
        for name in ("distributed_job_config", "docker_runtime_config", "resume_from"):
            if getattr(self, name) is not None:
                raise NotInSweepq(f"ScriptRunConfig({name}=...)", _REFUSED[name])

    def to_trial(self, sampled: bool = True) -> dict[str, Any]:
        """The command trial; `sampled` appends the sampled parameters as `--name value` (HyperDrive's form)."""
        if self.command:
            argv = [str(a) for a in self.command]
        elif self.script:
            argv = ["${interpreter}", self.script, *(str(a) for a in self.arguments or ())]
        else:
            raise ValueError("ScriptRunConfig needs script (or command)")
        cwd = str(Path(self.source_directory).resolve())
        return {"command": [*argv, *(["${args_split}"] if sampled else [])], "cwd": cwd, "per_trial_workdir": True}

    def limits(self) -> dict[str, Any]:
        if self.max_run_duration_seconds == MAX_DURATION_SECONDS_DEFAULT:
            return {}
        return {"trial_timeout_minutes": self.max_run_duration_seconds / 60}

    def resources(self) -> dict[str, Any]:
        queue = queue_of(self.compute_target)
        return {} if queue is None else {"resources": {"queue": queue}}

    def single_run_spec(self, name: str) -> dict[str, Any]:
        """A single run: a one-trial grid sweep whose only parameter (never passed to the script) is fixed."""
        return {"name": name, "trial": self.to_trial(sampled=False),
                "parameters": {SINGLE_RUN_PARAMETER: {"choice": [1]}}, "sampling": {"method": "grid"},
                "metric": {"name": "single_run_metric", "goal": "maximize"},
                "limits": {"max_total_runs": 1, "max_concurrent_runs": 1, **self.limits()}, **self.resources()}


_REFUSED = {
    "estimator": "use ScriptRunConfig(source_directory, script, arguments) as run_config",
    "pipeline": "sweep a ScriptRunConfig; a pipeline's steps can run inside the script",
    "distributed_job_config": "a trial runs as one process group on one worker (ask for GPUs with the queue)",
    "docker_runtime_config": "trials run in the worker's environment; run the worker itself in the container",
    "resume_from": "resume a sweep's child runs with HyperDriveConfig(resume_child_runs=...)",
}


def _ids(runs: Any) -> list[str]:
    """Runs (objects with an id) or ids, one or a list, as HyperDrive accepts them."""
    if runs is None:
        return []
    items = runs if isinstance(runs, (list, tuple)) else [runs]
    return [str(getattr(r, "id", r)) for r in items]


@dataclass
class HyperDriveConfig:
    hyperparameter_sampling: RandomParameterSampling | GridParameterSampling | BayesianParameterSampling
    primary_metric_name: str
    primary_metric_goal: PrimaryMetricGoal | str
    max_total_runs: int
    max_concurrent_runs: int | None = None
    max_duration_minutes: float = MAX_DURATION_MINUTES
    policy: Any = None
    estimator: Any = None
    run_config: ScriptRunConfig | None = None
    resume_from: Any = None
    resume_child_runs: Any = None
    pipeline: Any = None
    debug_flag: Any = None
    custom_run_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("estimator", "pipeline"):
            if getattr(self, name) is not None:
                raise NotInSweepq(f"HyperDriveConfig({name}=...)", _REFUSED[name])
        if self.run_config is None:
            raise ValueError("HyperDriveConfig needs run_config (a ScriptRunConfig)")

    def to_spec(self, name: str) -> dict[str, Any]:
        """The equivalent sweepq spec (validated when submitted, with the field path in errors)."""
        assert self.run_config is not None
        goal = str(getattr(self.primary_metric_goal, "value", self.primary_metric_goal))
        limits: dict[str, Any] = {"max_duration_minutes": self.max_duration_minutes, "max_total_runs": self.max_total_runs,
                                  **self.run_config.limits()}
        if self.max_concurrent_runs is not None:
            limits["max_concurrent_runs"] = self.max_concurrent_runs
        spec: dict[str, Any] = {
            "name": name,
            "trial": self.run_config.to_trial(),
            "parameters": _space(self.hyperparameter_sampling.parameter_space),
            "sampling": self.hyperparameter_sampling.to_spec(),
            "metric": {"name": self.primary_metric_name, "goal": goal.lower()},
            "early_termination": (self.policy or NoTerminationPolicy()).to_spec(),
            "limits": limits,
            **self.run_config.resources(),
        }
        if resume_from := _ids(self.resume_from):
            spec["resume_from"] = resume_from
        if children := _ids(self.resume_child_runs):  # child runs (their id is "<sweep>/<n>") or those ids
            spec["resume_child_runs"] = children
        return spec
