"""`Run.get_context()` inside a training script: the trial's run, or an offline run outside any sweep.

In a sweepq trial, numbers logged with `log` are metrics: a `sweepq-json:` line on stdout for a command trial (the
worker parses it, any metric name works, spaces included), or an in-process report for a Python-function trial.
Everything else (strings, booleans, lists, rows, tables, images, tags, properties, uploaded files) goes to the
trial's record file and folder (records.py), never failing the trial. Outside a sweep the offline run prints what
it would have logged, as HyperDrive's `_OfflineRun` does.
"""

from __future__ import annotations

import json
import numbers
import os
import re
import shutil
import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from orchestrator.hyperdrive import records
from orchestrator.hyperdrive.errors import NotInSweepq

JSON_PREFIX = "sweepq-json:"


def is_metric(value: Any) -> bool:
    """A real number (numpy's included), not a boolean: what the metric stream takes."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def metric_line(values: Mapping[str, float], step: int | None = None) -> str:
    """The stdout line a command trial prints to report metrics of any name."""
    return f"{JSON_PREFIX} {json.dumps({'metrics': dict(values), **({'step': step} if step is not None else {})})}"


class _Logging:
    """The logging half of HyperDrive's Run, shared by the trial run and the offline run."""

    def _metric(self, name: str, value: float, step: int | None) -> None:
        raise NotImplementedError

    def _record(self, kind: str, name: str, value: Any) -> None:
        raise NotImplementedError

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        if is_metric(value):
            self._metric(str(name), float(value), step)
        else:
            self._record("value", name, list(value) if isinstance(value, (tuple, range)) else value)

    def log_list(self, name: str, value: Sequence[Any], description: str = "") -> None:
        self._record("list", name, list(value))

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        self._record("row", name, kwargs)

    def log_table(self, name: str, value: Mapping[str, Any], description: str = "") -> None:
        self._record("table", name, {str(k): list(v) for k, v in value.items()})

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        self._record("value", name, value)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        self._record("value", name, value)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        self._record("value", name, value)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        self._record("value", name, value)

    def tag(self, key: str, value: str | None = None) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any] | str) -> None:
        self._record("tag", "tags", {tags: None} if isinstance(tags, str) else dict(tags))

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        if properties:
            self._record("property", "properties", dict(properties))

    def complete(self, _set_status: bool = True) -> None:
        """Nothing to do: the trial ends when the script exits."""

    def flush(self, timeout_seconds: int = 300) -> None:
        """Nothing to do: every call is written at once."""


class _OfflineRun(_Logging):
    """Outside a sweep: prints what it would log, as HyperDrive's offline run (ids `OfflineRun_<uuid>`)."""

    def __init__(self, run_id: str | None = None) -> None:
        self.id = run_id or f"OfflineRun_{uuid.uuid4()}"
        self.parent: Any = None
        self.experiment: Any = None

    def _metric(self, name: str, value: float, step: int | None) -> None:
        print(f"Attempted to log scalar metric {name}:\n{value}")

    def _record(self, kind: str, name: str, value: Any) -> None:
        if kind in ("tag", "property"):
            print(f"Attempted to {'set tags' if kind == 'tag' else 'add properties'} {value}")
        else:
            print(f"Attempted to log {'scalar' if kind == 'value' else kind} metric {name}:\n{value}")

    def log_image(self, name: str, path: str | None = None, plot: Any = None, description: str = "") -> None:
        print(f"Attempted to log image metric {name}:\n{plot or path}")

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: str | None = None) -> None:
        print(f"Attempted to track file {name} at {path_or_stream}")

    def upload_files(self, names: Sequence[str], paths: Sequence[str], return_artifacts: bool = False,
                     timeout_seconds: int | None = None, datastore_name: str | None = None) -> None:
        print(f"Attempted to track files {names} at {paths} with timeout {timeout_seconds}s")

    def upload_folder(self, name: str, path: str, datastore_name: str | None = None) -> None:
        print(f"Attempted to track folder {name} at {path}")

    def fail(self, error_details: Any = None, error_code: Any = None, _set_status: bool = True) -> None:
        print(f"Run failed with error code {error_code}:\n{error_details}")

    def cancel(self) -> None:
        """Not supported offline (as in HyperDrive)."""


class _TrialRun(_Logging):
    """The run of the sweepq trial this script is: its id is `<sweep>/<n>`, its folder the trial's output dir."""

    def __init__(self, sweep_id: str, number: int, trial_dir: Path) -> None:
        self.id = f"{sweep_id}/{number}"
        self.number = number
        self.trial_dir = trial_dir
        self._sweep_id = sweep_id

    @property
    def experiment(self) -> Any:
        from orchestrator.hyperdrive.workspace import Experiment

        return Experiment(None, self._sweep_id.rsplit("-", 1)[0])

    @property
    def parent(self) -> Any:
        """The sweep's run (HyperDriveRun), for its id and experiment; its data is read from the driver."""
        from orchestrator.hyperdrive.sweep_run import HyperDriveRun

        return HyperDriveRun(self.experiment, self._sweep_id)

    def _metric(self, name: str, value: float, step: int | None) -> None:
        from workers import reporting

        reporter = reporting._current
        if reporter is not None:  # a Python-function trial: report in process, stop when asked
            stop = reporter.send({name: value}, step)
            if stop is not None:
                raise reporting.TrialStopped(stop)
            return
        print(metric_line({name: value}, step), file=sys.stdout, flush=True)

    def _record(self, kind: str, name: str, value: Any) -> None:
        records.append(self.trial_dir, {"kind": kind, "name": str(name), "value": value})

    def log_image(self, name: str, path: str | None = None, plot: Any = None, description: str = "") -> None:
        """Keep the image in the trial's folder (`images/<name>.<ext>`), listed in its files and metrics."""
        if (path is None) == (plot is None):
            raise ValueError("log_image needs exactly one of path= or plot=")
        suffix = Path(path).suffix if path is not None else ".png"
        target = self.trial_dir / "images" / f"{_slug(name)}{suffix or '.png'}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if path is not None:
            shutil.copyfile(path, target)
        else:
            getattr(plot, "gcf", lambda: plot)().savefig(target)  # matplotlib's pyplot module or a figure
        self._record("image", name, target.relative_to(self.trial_dir).as_posix())

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: str | None = None) -> None:
        """Copy a file (or a binary stream's content) into the trial's folder under `name`."""
        target = self._target(name)
        if isinstance(path_or_stream, (str, os.PathLike)):
            shutil.copyfile(path_or_stream, target)
        else:
            data = path_or_stream.read()
            target.write_bytes(data if isinstance(data, bytes) else str(data).encode())

    def upload_files(self, names: Sequence[str], paths: Sequence[str], return_artifacts: bool = False,
                     timeout_seconds: int | None = None, datastore_name: str | None = None) -> None:
        for name, path in zip(names, paths, strict=True):
            self.upload_file(name, path)

    def upload_folder(self, name: str, path: str, datastore_name: str | None = None) -> None:
        shutil.copytree(path, self._target(name), dirs_exist_ok=True)

    def fail(self, error_details: Any = None, error_code: Any = None, _set_status: bool = True) -> None:
        """The trial fails: its process exits with code 1 (a Python-function trial raises)."""
        raise SystemExit(f"Run.fail({error_code!r}): {error_details}")

    def cancel(self) -> None:
        raise NotInSweepq("Run.cancel() from the script", "cancel from the driver (run.cancel()) or `sweepq cancel`")

    def _target(self, name: str) -> Path:
        target = (self.trial_dir / name).resolve()
        if not target.is_relative_to(self.trial_dir.resolve()):
            raise ValueError(f"upload name {name!r} leaves the run's folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotInSweepq(f"Run.get_context().{name}", "read runs from the driver script (Run(experiment, run_id))")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", str(name)).strip("_") or "image"


def get_context(allow_offline: bool = True) -> _TrialRun | _OfflineRun:
    """The trial's run when this process is a sweepq trial (command or Python function), else an offline run."""
    from workers import reporting

    reporter = reporting._current
    output_dir = os.environ.get("SWEEPQ_OUTPUT_DIR")
    if reporter is not None and output_dir:
        return _TrialRun(reporter.sweep_id, reporter.number, Path(output_dir))
    trial_id = os.environ.get("SWEEPQ_TRIAL_ID")
    if trial_id and output_dir:
        sweep_id, _, number = trial_id.rpartition("/")
        return _TrialRun(sweep_id, int(number), Path(output_dir))
    if not allow_offline:
        from orchestrator.hyperdrive.errors import RunEnvironmentException

        raise RunEnvironmentException("not inside a sweepq trial (no SWEEPQ_TRIAL_ID) and allow_offline=False")
    return _OfflineRun()
