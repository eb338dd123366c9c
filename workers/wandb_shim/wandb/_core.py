"""The drop-in W&B run object, shared by the command-trial shim (`import wandb`) and `orchestrator.wandb`.

Standard library only, so that it imports fast inside a trial. What differs between the two is the Binding:
where a committed step goes (a `sweepq:` line on stdout, or a report straight to Redis in an agent) and which
trial the run belongs to. Anything W&B has that this module does not implement raises `Unsupported`, naming it
and what sweepq offers instead: never a silent no-op.
"""

from __future__ import annotations

import fnmatch
import glob
import math
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._values import Config, Error, Summary, as_number, config_items, flatten, unsupported

DASHBOARD_ENV = "SWEEPQ_DASHBOARD_URL"
DEFAULT_DASHBOARD = "http://127.0.0.1:8000"
SUMMARY_KINDS = ("min", "max", "mean", "last", "first", "best", "none")


@dataclass
class Binding:
    """Which trial a run belongs to and where its committed steps go: emit(values, step) may raise to stop it."""

    emit: Callable[[dict[str, float], int | None], None]
    trial_id: str = ""
    sweep_id: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    output_dir: str | None = None
    resumed: bool = False
    project: str | None = None
    entity: str | None = None
    on_finish: Callable[[Run], None] | None = None  # e.g. a final report of the summary's explicit values


@dataclass
class _MetricDef:
    summary: str | None = None
    step_metric: str | None = None
    goal: str | None = None


class Run:
    """A W&B run bound to one sweepq trial: log(), summary, config, step, save(), finish(), a context manager."""

    def __init__(self, binding: Binding, project: str | None, name: str | None, entity: str | None) -> None:
        self._binding = binding
        self.id = binding.trial_id or f"offline-{uuid.uuid4().hex[:8]}"
        self.name = name or self.id
        self.sweep_id = binding.sweep_id or None
        self.project = project or binding.project or "uncategorized"
        self.entity = entity or binding.entity
        self.config = Config(binding.params)
        self.summary = Summary()
        self.step = 0
        self.resumed = binding.resumed
        self.dir = binding.output_dir or os.getcwd()
        self._pending: dict[str, Any] = {}
        self._explicit_step = False
        self._metrics: dict[str, _MetricDef] = {}
        self._seen: dict[str, list[float]] = {}
        self._logged: dict[str, float] = {}  # each metric's last logged value
        self._finished = False

    # -- logging ---------------------------------------------------------------------------------------
    def log(
        self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None, sync: bool | None = None
    ) -> None:
        """W&B's log: commit=False accumulates into the current step; a higher step commits the pending one."""
        if self._finished:
            raise Error("wandb.log after run.finish(): start a new run with wandb.init()")
        if not isinstance(data, Mapping):
            raise TypeError(f"wandb.log takes a dict, not {type(data).__name__}")
        if step is not None:
            step = int(step)
            if step < self.step:
                return  # W&B drops (and warns about) a step lower than the current one
            self._explicit_step = True
            if step > self.step:
                self._commit()
                self.step = step
        self._pending.update(flatten(data))
        if commit if commit is not None else step is None:
            self._commit()

    def _commit(self) -> None:
        if not self._pending:
            return
        row, self._pending = self._pending, {}
        numbers = {k: n for k, n in ((k, as_number(v)) for k, v in row.items()) if n is not None}
        for key, value in row.items():
            self._summarize(key, value)
        self._logged.update(numbers)
        step = self._row_step(numbers)
        self.step += 1
        if numbers:
            self._binding.emit(numbers, step)

    def _row_step(self, numbers: Mapping[str, float]) -> int | None:
        for name in numbers:
            step_metric = self._metric_def(name).step_metric
            if step_metric and step_metric in numbers:
                return int(numbers[step_metric])
        return self.step if self._explicit_step else None

    def _summarize(self, key: str, value: Any) -> None:
        kind = self._metric_def(key).summary
        number = as_number(value)
        if number is None or kind in (None, "last"):
            self.summary.record(key, value)
            return
        seen = self._seen.setdefault(key, [])
        seen.append(number)
        finite = [v for v in seen if not math.isnan(v)] or seen
        goal = self._metric_def(key).goal
        pick = {"min": min(finite), "max": max(finite), "mean": sum(seen) / len(seen), "first": seen[0],
                "best": max(finite) if goal == "maximize" else min(finite)}
        if kind != "none":
            self.summary.record(key, pick[kind])

    def _metric_def(self, key: str) -> _MetricDef:
        exact = self._metrics.get(key)
        if exact is not None:
            return exact
        for pattern, definition in self._metrics.items():
            if "*" in pattern and fnmatch.fnmatchcase(key, pattern):
                return definition
        return _MetricDef()

    def define_metric(
        self, name: str, step_metric: str | None = None, summary: str | None = None, goal: str | None = None,
        hidden: bool | None = None, step_sync: bool | None = None, overwrite: bool | None = None,
    ) -> None:
        """W&B's define_metric: `summary` (min, max, mean, first, last, best, none) sets what run.summary keeps,
        hence the trial's final value; `step_metric` makes that metric the reports' step."""
        kinds = [k.strip() for k in (summary or "").split(",") if k.strip()]
        bad = [k for k in kinds if k not in SUMMARY_KINDS]
        if bad:
            raise ValueError(f"define_metric(summary=...) takes {', '.join(SUMMARY_KINDS)}, not {bad[0]!r}")
        goal = {"min": "minimize", "max": "maximize"}.get(goal or "", goal)
        self._metrics[name] = _MetricDef(kinds[0] if kinds else None, step_metric, goal)

    # -- the rest of W&B's run ---------------------------------------------------------------------------
    def save(self, glob_str: str | os.PathLike[str], base_path: str | None = None, policy: str = "live") -> list[str]:
        """Copy matching files into the trial's output directory (run.dir/files), where sweepq keeps them."""
        pattern = os.fspath(glob_str)
        target = Path(self.dir) / "files"
        copied: list[str] = []
        for path in glob.glob(pattern, recursive=True):
            if not os.path.isfile(path):
                continue
            rel = os.path.relpath(path, base_path) if base_path else os.path.basename(path)
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if Path(path).resolve() != dest.resolve():
                shutil.copy2(path, dest)
            copied.append(str(dest))
        return copied

    def get_sweep_url(self) -> str | None:
        """The sweep's page on sweepq's dashboard (`sweepq dashboard`; SWEEPQ_DASHBOARD_URL says where it runs)."""
        return f"{dashboard_url()}/sweeps/{self.sweep_id}" if self.sweep_id else None

    def get_project_url(self) -> str:
        """sweepq has no projects: the dashboard's list of sweeps."""
        return f"{dashboard_url()}/"

    def get_url(self) -> str | None:
        return self.get_sweep_url()

    @property
    def url(self) -> str | None:
        return self.get_url()

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Commit the pending step; the summary's explicit values become the trial's final ones."""
        if self._finished:
            return
        try:
            self._commit()
        finally:
            self._finished = True
        if self._binding.on_finish is not None:
            self._binding.on_finish(self)

    def explicit_summary(self, changed_only: bool = False) -> dict[str, float]:
        """Numeric summary values the script set itself (run.summary[k] = v), which W&B ranks a run by; with
        changed_only, those that differ from the metric's last logged value (the others need no report)."""
        values = {k: n for k in self.summary.explicit if (n := as_number(self.summary.get(k))) is not None}
        return {k: v for k, v in values.items() if not changed_only or self._logged.get(k) != v}

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish(exit_code=1 if exc[0] is not None else 0)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise unsupported(f"Run.{name}")


def dashboard_url() -> str:
    return os.environ.get(DASHBOARD_ENV, DEFAULT_DASHBOARD).rstrip("/")


class Settings(dict):  # type: ignore[type-arg]
    """wandb.Settings(...): accepted for wandb.init(settings=...); W&B's process and sync options mean nothing here."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(kwargs)


def login(*args: Any, **kwargs: Any) -> bool:
    """wandb.login(): sweepq needs no login (SWEEPQ_REDIS_URL says where the sweeps are), so it succeeds."""
    return True


INIT_RECORDED = {
    "job_type", "tags", "group", "notes", "dir", "reinit", "resume", "resume_from", "fork_from", "save_code", "mode",
    "anonymous", "allow_val_change", "force", "sync_tensorboard", "monitor_gym", "magic", "settings", "id", "tensorboard",
    "config_exclude_keys", "config_include_keys",
}


class Session:
    """The module-level W&B API of one process: init/log/finish/config/summary/run on the current binding."""

    def __init__(self, default_binding: Callable[[], Binding]) -> None:
        self._default = default_binding
        self._binding: Binding | None = None
        self._preinit: Config | None = None  # wandb.config before wandb.init: the sweep's parameters
        self.run: Run | None = None

    @property
    def binding(self) -> Binding:
        if self._binding is None:
            self._binding = self._default()
        return self._binding

    @contextmanager
    def bound(self, binding: Binding) -> Iterator[None]:
        """Bind the API to one trial for the duration of a block (the agent runs each trial in one)."""
        old, old_run = self._binding, self.run
        self._binding, self.run, self._preinit = binding, None, None
        try:
            yield
        finally:
            self._binding, self.run, self._preinit = old, old_run, None

    def init(self, project: str | None = None, entity: str | None = None, config: Any = None, name: str | None = None,
             **kwargs: Any) -> Run:
        """Start (or, within one trial, return) the run; `config` holds defaults the sweep's parameters override."""
        unknown = sorted(set(kwargs) - INIT_RECORDED)
        if unknown:
            raise TypeError(f"wandb.init() got an unexpected keyword argument {unknown[0]!r}")
        if self.run is not None and not self.run._finished:
            return self.run
        run = Run(self.binding, project, name, entity)
        if self._preinit is not None:
            run.config = self._preinit  # what the script read or set on wandb.config before init
        defaults = config_items(config)
        include, exclude = kwargs.get("config_include_keys"), kwargs.get("config_exclude_keys") or ()
        run.config.update({k: v for k, v in defaults.items() if (include is None or k in include) and k not in exclude})
        self.run = run
        return run

    def require(self, what: str) -> Run:
        if self.run is None:
            raise Error(f"You must call wandb.init() before {what}")
        return self.run

    def log(
        self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None, sync: bool | None = None
    ) -> None:
        self.require("wandb.log()").log(data, step=step, commit=commit)

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        if self.run is not None:
            self.run.finish(exit_code)

    def save(self, glob_str: str | os.PathLike[str], base_path: str | None = None, policy: str = "live") -> list[str]:
        return self.require("wandb.save()").save(glob_str, base_path, policy)

    def define_metric(self, name: str, **kwargs: Any) -> None:
        self.require("wandb.define_metric()").define_metric(name, **kwargs)

    def attribute(self, name: str) -> Any:
        """The module's dynamic attributes (config, summary, run) and the refusal of everything else."""
        if name == "config":
            if self.run is not None:
                return self.run.config
            if self._preinit is None:
                self._preinit = Config(self.binding.params)
            return self._preinit
        if name == "summary":
            return self.require("wandb.summary").summary
        if name == "run":
            return self.run
        if name.startswith("__"):
            raise AttributeError(name)
        raise unsupported(name)
