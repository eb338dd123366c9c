"""HyperDrive's Python API on sweepq: a HyperDrive script ports by changing its imports.

    from orchestrator.hyperdrive import (RandomParameterSampling, BanditPolicy, HyperDriveConfig, PrimaryMetricGoal,
                                         ScriptRunConfig, Experiment, Workspace, Run, uniform, choice)

Same class names, argument names and defaults as `azureml.train.hyperdrive` (SDK v1). The training script runs
as a command trial and receives `--name value` arguments, as HyperDrive passes them; inside it,
`Run.get_context().log(name, value)` reports a metric (a `sweepq:` stdout line the worker parses).
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.client import Sweep, SweepClient


# ---------------------------------------------------------------- parameter expressions
def choice(*options: Any) -> dict[str, Any]:
    """choice(1, 2, 3), choice([1, 2, 3]) or choice(range(1, 5))."""
    values = list(options[0]) if len(options) == 1 and isinstance(options[0], (list, tuple, range)) else list(options)
    return {"choice": values}


def randint(upper: int) -> dict[str, Any]:
    return {"randint": [upper]}


def uniform(min_value: float, max_value: float) -> dict[str, Any]:
    return {"uniform": [min_value, max_value]}


def quniform(min_value: float, max_value: float, q: float) -> dict[str, Any]:
    return {"quniform": [min_value, max_value, q]}


def loguniform(min_value: float, max_value: float) -> dict[str, Any]:
    return {"loguniform": [min_value, max_value]}


def qloguniform(min_value: float, max_value: float, q: float) -> dict[str, Any]:
    return {"qloguniform": [min_value, max_value, q]}


def normal(mu: float, sigma: float) -> dict[str, Any]:
    return {"normal": [mu, sigma]}


def qnormal(mu: float, sigma: float, q: float) -> dict[str, Any]:
    return {"qnormal": [mu, sigma, q]}


def lognormal(mu: float, sigma: float) -> dict[str, Any]:
    return {"lognormal": [mu, sigma]}


def qlognormal(mu: float, sigma: float, q: float) -> dict[str, Any]:
    return {"qlognormal": [mu, sigma, q]}


# ---------------------------------------------------------------- sampling, policies, goal
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

    def to_spec(self) -> dict[str, Any]:
        return {"method": "grid"}


@dataclass
class BayesianParameterSampling:
    parameter_space: Mapping[str, Any]

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
    exclude_finished_jobs: bool = False

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


# ---------------------------------------------------------------- the training script and the config
@dataclass
class ScriptRunConfig:
    """The training script: `python <script> <arguments...> --name value ...` run in `source_directory`."""

    source_directory: str = "."
    script: str | None = None
    arguments: Sequence[Any] = ()
    run_config: Any = None
    compute_target: Any = None
    environment: Any = None
    command: Sequence[str] | None = None

    def to_trial(self) -> dict[str, Any]:
        cwd = str(Path(self.source_directory).resolve())
        if self.command:
            argv = [str(a) for a in self.command]
        elif self.script:
            argv = ["${interpreter}", self.script, *(str(a) for a in self.arguments)]
        else:
            raise ValueError("ScriptRunConfig needs script (or command)")
        return {"command": [*argv, "${args_split}"], "cwd": cwd}


@dataclass
class HyperDriveConfig:
    run_config: ScriptRunConfig
    hyperparameter_sampling: RandomParameterSampling | GridParameterSampling | BayesianParameterSampling
    primary_metric_name: str
    primary_metric_goal: PrimaryMetricGoal | str
    max_total_runs: int | None = None
    max_concurrent_runs: int | None = None
    max_duration_minutes: float = 10080
    policy: Any = None
    resume_from: Sequence[Any] | None = None
    resume_child_runs: Sequence[Any] | None = None
    debug_flag: Any = None

    def to_spec(self, name: str) -> dict[str, Any]:
        """The equivalent sweepq spec (validated when submitted, with HyperDrive's field names in errors)."""
        goal = str(self.primary_metric_goal)
        limits: dict[str, Any] = {"max_duration_minutes": self.max_duration_minutes}
        if self.max_total_runs is not None:
            limits["max_total_runs"] = self.max_total_runs
        if self.max_concurrent_runs is not None:
            limits["max_concurrent_runs"] = self.max_concurrent_runs
        spec: dict[str, Any] = {
            "name": name,
            "trial": self.run_config.to_trial(),
            "parameters": _space(self.hyperparameter_sampling.parameter_space),
            "sampling": self.hyperparameter_sampling.to_spec(),
            "metric": {"name": self.primary_metric_name, "goal": goal},
            "early_termination": (self.policy or NoTerminationPolicy()).to_spec(),
            "limits": limits,
        }
        if self.resume_from:
            spec["resume_from"] = [getattr(r, "id", r) for r in self.resume_from]
        if self.resume_child_runs:  # ChildRun objects (their id is "<sweep>/<n>") or those ids
            spec["resume_child_runs"] = [getattr(r, "id", r) for r in self.resume_child_runs]
        return spec


# ---------------------------------------------------------------- workspace, experiment, runs
class Workspace:
    """Where sweeps run: a SweepClient on the configured Redis (SWEEPQ_* settings)."""

    def __init__(self, client: SweepClient | None = None) -> None:
        self.client = client or SweepClient()

    @classmethod
    def from_config(cls, *args: Any, **kwargs: Any) -> Workspace:
        return cls()


class Experiment:
    def __init__(self, workspace: Workspace | SweepClient | None, name: str) -> None:
        if isinstance(workspace, SweepClient):
            workspace = Workspace(workspace)
        self.workspace = workspace or Workspace()
        self.name = name

    def submit(self, config: HyperDriveConfig, tags: Mapping[str, str] | None = None) -> HyperDriveRun:
        return HyperDriveRun(self.workspace.client.submit(config.to_spec(self.name)))


@dataclass
class ChildRun:
    """One trial, as HyperDrive's child run."""

    sweep: Sweep
    trial: dict[str, Any]
    id: str = field(init=False)

    def __post_init__(self) -> None:
        self.id = self.trial["id"]

    def get_status(self) -> str:
        names = {"completed": "Completed", "failed": "Failed", "stopped": "Canceled", "canceled": "Canceled",
                 "running": "Running", "queued": "Queued"}
        return names.get(str(self.trial["status"]), str(self.trial["status"]))

    def get_metrics(self) -> dict[str, Any]:
        """Every metric the trial logged: one value, or a list when it logged the name several times."""
        series: dict[str, list[Any]] = {}
        for report in self.sweep.metrics(self.trial["number"]):
            if report["attempt"] == (self.trial.get("attempt") or 1):
                for name, value in report["values"].items():
                    series.setdefault(name, []).append(value)
        return {name: values[0] if len(values) == 1 else values for name, values in series.items()}

    def get_details(self) -> dict[str, Any]:
        arguments = [item for name, value in self.trial["params"].items() for item in (f"--{name}", value)]
        definition = {"arguments": arguments, "Arguments": arguments}
        return {"runId": self.id, "status": self.get_status(), "runDefinition": definition}


class HyperDriveRun:
    """The parent run: the sweep."""

    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep
        self.id = sweep.id

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True) -> dict[str, Any]:
        status = self.sweep.wait(progress=show_output)
        if raise_on_error and status["status"] == "failed":
            raise RuntimeError(f"sweep {self.id} failed: {status.get('reason')}")
        return status

    def get_status(self) -> str:
        return str(self.sweep.status()["status"]).capitalize()

    def get_children(self) -> Iterator[ChildRun]:
        return (ChildRun(self.sweep, t) for t in self.sweep.trials())

    def get_metrics(self) -> dict[str, dict[str, Any]]:
        return {child.id: child.get_metrics() for child in self.get_children()}

    def get_best_run_by_primary_metric(self) -> ChildRun | None:
        best = self.sweep.best_trial()
        return None if best is None else ChildRun(self.sweep, best)

    def cancel(self) -> None:
        self.sweep.cancel()


class Run:
    """Inside a training script: `Run.get_context().log(name, value)` reports a metric to the sweep."""

    @classmethod
    def get_context(cls, *args: Any, **kwargs: Any) -> Run:
        return cls()

    def log(self, name: str, value: float, description: str = "") -> None:
        from workers import reporting

        if reporting._current is not None:  # a Python-function trial: report in process
            reporting.report(**{name: value})
            return
        prefix = "sweepq: " if os.environ.get("SWEEPQ_TRIAL_ID") else ""
        print(f"{prefix}{name}={float(value)!r}", file=sys.stdout, flush=True)

    def log_list(self, name: str, value: Sequence[float], description: str = "") -> None:
        for item in value:
            self.log(name, item)

    def complete(self) -> None:
        """Nothing to do: the trial ends when the script exits."""
