"""A run seen from the driver, as HyperDrive's `Run`: one sweepq trial, `Run(experiment, "<sweep id>/<n>")`.

Status, details (with `runDefinition.arguments`: the script's own arguments and the sampled ones, as the trial got
them), metrics (numbers from the metric stream, everything else from the trial's records), files (the trial's own
folder under the artifact root, read where the driver runs: local mode or a shared artifact root) and downloads.
Calls that need Azure's services raise NotInSweepq naming the call and what sweepq offers.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.hyperdrive import context, records
from orchestrator.hyperdrive.errors import ActivityFailedException, NotInSweepq

if TYPE_CHECKING:
    from orchestrator.client import Sweep, SweepClient
    from orchestrator.hyperdrive.workspace import Experiment

STATUS = {"queued": "Queued", "running": "Running", "completed": "Completed", "failed": "Failed",
          "stopped": "Canceled", "canceled": "Canceled"}  # an early-terminated trial is Canceled on HyperDrive
ENDED = ("Completed", "Failed", "Canceled")
AZURE_ONLY = {
    "register_model": "the model files are the run's files: get_file_names() and download_file(name, path)",
    "get_secret": "pass secrets to workers through their environment",
    "get_secrets": "pass secrets to workers through their environment",
    "get_environment": "trials run with the worker's own Python and packages",
    "take_snapshot": "the trial's folder overlays source_directory; get_file_names() lists what it wrote",
    "restore_snapshot": "the trial's folder overlays source_directory",
    "get_snapshot_id": "the trial's folder overlays source_directory",
    "submit_child": "submit a HyperDriveConfig or ScriptRunConfig with Experiment.submit",
    "child_run": "submit a HyperDriveConfig or ScriptRunConfig with Experiment.submit",
    "create_children": "submit a HyperDriveConfig or ScriptRunConfig with Experiment.submit",
    "get_diagnostics": "the trial's log is its file output.log",
}
for _name in ("log_image", "upload_file", "upload_files", "upload_folder"):
    AZURE_ONLY[_name] = "log and upload from the training script with Run.get_context()"


def iso(ts: Any) -> str | None:
    return None if not isinstance(ts, (int, float)) else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def numeric_series(reports: Iterable[Mapping[str, Any]], number: int, attempt: int) -> dict[str, list[float]]:
    """Every number one trial's attempt reported, by name, in order."""
    series: dict[str, list[float]] = {}
    for report in reports:
        if report["trial"] == number and report["attempt"] == attempt:
            for name, value in report["values"].items():
                series.setdefault(name, []).append(value)
    return series


class Run(context._Logging):
    """One trial as HyperDrive's child run; `Run.get_context()` inside a script gives the script's own run."""

    def __init__(self, experiment: Experiment, run_id: str, outputs: Any = None, **kwargs: Any) -> None:
        sweep_id, _, number = str(run_id).rpartition("/")
        if not sweep_id or not number.isdigit():
            raise ValueError(f"run id {run_id!r}: sweepq's child run ids are '<sweep id>/<n>'")
        self._experiment = experiment
        self._run_id = str(run_id)
        self._sweep_id = sweep_id
        self.number = int(number)
        self._trial_doc: dict[str, Any] | None = kwargs.get("_record")

    @classmethod
    def get_context(cls, allow_offline: bool = True, used_for_context_manager: bool = False, **kwargs: Any) -> Any:
        """Inside a training script: the trial's run (or an offline run outside any sweep)."""
        return context.get_context(allow_offline)

    def _metric(self, name: str, value: float, step: int | None) -> None:
        raise NotInSweepq("Run.log from the driver", "log from the training script with Run.get_context()")

    def _record(self, kind: str, name: str, value: Any) -> None:
        raise NotInSweepq(f"Run.{kind} from the driver", "log from the training script with Run.get_context()")

    # -- identity -----------------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._run_id

    @property
    def name(self) -> str:
        return self._run_id

    @property
    def display_name(self) -> str:
        return self._run_id

    @property
    def type(self) -> str:
        return "azureml.scriptrun"

    @property
    def experiment(self) -> Experiment:
        return self._experiment

    @property
    def parent(self) -> Run | None:
        from orchestrator.hyperdrive.sweep_run import HyperDriveRun

        return HyperDriveRun(self._experiment, self._sweep_id)

    @property
    def status(self) -> str:
        return self.get_status()

    def __repr__(self) -> str:
        return f"Run(Experiment: {self._experiment.name},\nId: {self.id},\nType: {self.type},\nStatus: {self.get_status()})"

    # -- ledger -------------------------------------------------------------------------------------------------
    @property
    def _client(self) -> SweepClient:
        return self._experiment.workspace.client

    @property
    def _sweep(self) -> Sweep:
        from orchestrator.client import Sweep

        return Sweep(self._client, self._sweep_id)

    def _trial(self) -> dict[str, Any]:
        """The trial's ledger record, re-read until the trial has ended ({} while it is not created yet)."""
        if self._trial_doc is None or STATUS.get(str(self._trial_doc.get("status"))) not in ENDED:
            self._trial_doc = self._client.ledger.trial(self._sweep_id, self.number) or {}
        return self._trial_doc

    def _folder(self) -> Path | None:
        folder = self._trial().get("output_dir")
        return Path(folder) if folder else None

    def _logged(self) -> dict[str, Any]:
        trial = self._trial()
        if isinstance(trial.get("logged"), dict):
            return dict(trial["logged"])
        folder = self._folder()
        return (records.read_records(folder) if folder else None) or {}

    # -- status and details -------------------------------------------------------------------------------------
    def get_status(self) -> str:
        status = self._trial().get("status")
        return "NotStarted" if status is None else STATUS.get(str(status), str(status).capitalize())

    def get_details(self) -> dict[str, Any]:
        trial = self._trial()
        spec = self._sweep.spec
        folder = self._folder()
        details: dict[str, Any] = {
            "runId": self.id, "target": spec.resources.effective_queue, "status": self.get_status(),
            "startTimeUtc": iso(trial.get("started")), "endTimeUtc": iso(trial.get("ended")),
            "properties": {str(k): v for k, v in self._logged().get("properties", {}).items()},
            "inputDatasets": [], "outputDatasets": [],
            "runDefinition": self._definition(trial),
            "logFiles": {"output.log": str(folder / "output.log")} if folder else {},
            "submittedBy": None,
        }
        if trial.get("error") and details["status"] == "Failed":
            details["error"] = {"error": {"message": str(trial["error"])}}
        return details

    def _definition(self, trial: Mapping[str, Any]) -> dict[str, Any]:
        """The trial's arguments as its script got them (strings): its own, then the sampled `--name value`."""
        template = list(getattr(self._sweep.spec.trial, "command", ()))
        argv = trial.get("argv")
        script = template[1] if len(template) > 1 and template[0] == "${interpreter}" else None
        if isinstance(argv, list) and script is not None:
            arguments = [str(a) for a in argv[2:]]
        else:
            params = trial.get("params") or {}
            own = [a for a in template[2:] if a != "${args_split}"] if script else []
            sampled = [s for k, v in params.items() for s in (f"--{k}", str(v))] if "${args_split}" in template else []
            arguments = [*own, *sampled]
        return {"script": script, "arguments": arguments, "Arguments": arguments, "command": "" if script else template,
                "target": self._sweep.spec.resources.effective_queue}

    def get_metrics(self, name: str | None = None, recursive: bool = False, run_type: str | None = None,
                    populate: bool = False, *, _reports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Every metric: numbers as one value or a list when logged several times, the rest as HyperDrive shows it."""
        trial = self._trial()
        reports = self._sweep.metrics(self.number) if _reports is None else _reports
        series = numeric_series(reports, self.number, int(trial.get("attempt") or 1))
        metrics: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in series.items()}
        metrics.update(records.as_metrics(self._logged()))
        return metrics if name is None else {k: v for k, v in metrics.items() if k == name}

    # -- tags and properties ------------------------------------------------------------------------------------
    @property
    def tags(self) -> dict[str, Any]:
        return self.get_tags()

    def get_tags(self) -> dict[str, Any]:
        return {**self._logged().get("tags", {}), **(self._trial().get("tags") or {})}

    def tag(self, key: str, value: str | None = None) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any] | str) -> None:
        """Tags set from the driver are kept in the trial's ledger record beside those the script set."""
        new = {tags: None} if isinstance(tags, str) else dict(tags)
        current = self._client.ledger.trial(self._sweep_id, self.number) or {}
        self._client.ledger.update_trial(self._sweep_id, self.number, {"tags": {**(current.get("tags") or {}), **new}})
        self._trial_doc = None

    @property
    def properties(self) -> dict[str, Any]:
        return self.get_properties()

    def get_properties(self) -> dict[str, Any]:
        return dict(self._logged().get("properties", {}))

    # -- files --------------------------------------------------------------------------------------------------
    def get_file_names(self) -> list[str]:
        """The files the run wrote in its own folder (`outputs/...`, `output.log`, images, uploads)."""
        from orchestrator.hyperdrive.files import own_files

        folder = self._folder()
        return own_files(folder) if folder else []

    def download_file(self, name: str, output_file_path: str | None = None, _validate_checksum: bool = False) -> None:
        """Copy one of get_file_names() to `output_file_path` (a file, or a folder to put it in)."""
        source = self._file(name)
        target = Path(output_file_path) if output_file_path is not None else Path(Path(name).name)
        if target.is_dir():
            target = target / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)

    def download_files(self, prefix: str | None = None, output_directory: str | None = None,
                       output_paths: list[str] | None = None, batch_size: int = 100, append_prefix: bool = True,
                       timeout_seconds: int | None = None) -> None:
        """Copy every file under `prefix` (all of them by default) into `output_directory` (the current one)."""
        names = [n for n in self.get_file_names() if prefix is None or n.startswith(prefix)]
        if output_paths is not None and len(output_paths) != len(names):
            raise ValueError(f"output_paths has {len(output_paths)} paths for {len(names)} files")
        root = Path(output_directory or ".")
        for i, name in enumerate(names):
            relative = name if append_prefix or not prefix else name[len(prefix):].lstrip("/")
            self.download_file(name, str(output_paths[i]) if output_paths else str(root / relative))

    def _file(self, name: str) -> Path:
        folder = self._folder()
        if folder is None or name not in self.get_file_names():
            raise FileNotFoundError(f"run {self.id} has no file {name!r}; get_file_names() lists its files")
        return folder / name

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def get_children(self, recursive: bool = False, tags: Any = None, properties: Any = None, type: Any = None,
                     status: Any = None, _rehydrate_runs: bool = True) -> list[Run]:
        return []

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True) -> dict[str, Any]:
        """Block until the trial ends; returns get_details(); ActivityFailedException if it failed (and asked)."""
        while self.get_status() not in ENDED:
            if self._trial() == {} and self._sweep.done():
                raise ActivityFailedException(f"run {self.id}: its sweep ended before the run was created")
            time.sleep(0.5)
        details = self.get_details()
        if show_output:
            folder = self._folder()
            log = folder / "output.log" if folder else None
            print(log.read_text(errors="replace") if log and log.is_file() else "", end="")
            print(f"\nRunId: {self.id}\nExecution Summary\n=================\nRunId: {self.id}\nStatus: {details['status']}")
        if raise_on_error and details["status"] == "Failed":
            raise ActivityFailedException(f"run {self.id} failed: {self._trial().get('error')}")
        return details

    def cancel(self) -> None:
        """Ask the trial to stop: it ends Canceled (a queued one never starts)."""
        self._client.ledger.request_stop(self._sweep_id, [self.number], "canceled")

    def register_model(self, model_name: str, model_path: str | None = None, tags: Any = None, properties: Any = None,
                       model_framework: Any = None, model_framework_version: Any = None, description: Any = None,
                       datasets: Any = None, sample_input_dataset: Any = None, sample_output_dataset: Any = None,
                       resource_configuration: Any = None, **kwargs: Any) -> Any:
        """Not in sweepq (Azure's model registry): the model's files are the run's files."""
        raise NotInSweepq(f"{type(self).__name__}.register_model()", AZURE_ONLY["register_model"])



def _refusal(name: str) -> Any:
    def refused(self: Run, *args: Any, **kwargs: Any) -> Any:
        raise NotInSweepq(f"{type(self).__name__}.{name}()", AZURE_ONLY[name])

    refused.__name__ = name
    refused.__doc__ = f"Not in sweepq: {AZURE_ONLY[name]}."
    return refused


for _name in AZURE_ONLY:
    if not hasattr(Run, _name):
        setattr(Run, _name, _refusal(_name))


def params_json(trial: Mapping[str, Any]) -> str:
    return json.dumps(trial.get("params") or {})
