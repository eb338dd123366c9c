"""The parent run (HyperDrive's HyperDriveRun): the sweep, its child runs and the best of them.

The best run is picked as HyperDrive's client picks it when it compares child runs itself: each child's best value
of the primary metric over everything it logged (max when maximizing, min when minimizing), children sorted by it
(ties: the earlier child), the first whose status passes include_failed / include_canceled (both True by default;
an early-terminated child is Canceled), compared with the best of each resume_from sweep when
include_resume_from_runs. Deliberate difference: when no candidate child Completed, None with a warning.
"""

from __future__ import annotations

import json
import warnings
from typing import TYPE_CHECKING, Any

from orchestrator.hyperdrive.errors import ActivityFailedException, NotInSweepq
from orchestrator.hyperdrive.runs import Run, iso

if TYPE_CHECKING:
    from orchestrator.hyperdrive.config import HyperDriveConfig
    from orchestrator.hyperdrive.workspace import Experiment

SWEEP_STATUS = {"pending": "Queued", "running": "Running", "paused": "Paused", "completed": "Completed",
                "failed": "Failed", "canceled": "Canceled"}


class HyperDriveRun(Run):
    """A sweep as HyperDrive's parent run: `HyperDriveRun(experiment, "<sweep id>")`."""

    def __init__(self, experiment: Experiment, run_id: str, hyperdrive_config: HyperDriveConfig | None = None,
                 **kwargs: Any) -> None:
        if not isinstance(run_id, str):
            raise TypeError(f"run_id must be a str, not {type(run_id).__name__}")
        self._experiment = experiment
        self._run_id = self._sweep_id = run_id
        self.number = -1
        self._trial_doc = None
        self._hyperdrive_config = hyperdrive_config

    @property
    def hyperdrive_config(self) -> HyperDriveConfig | None:
        return self._hyperdrive_config

    @property
    def type(self) -> str:
        return "hyperdrive"

    @property
    def parent(self) -> Run | None:
        return None

    def get_status(self) -> str:
        status = str(self._sweep.status()["status"])
        return SWEEP_STATUS.get(status, status.capitalize())

    def get_details(self) -> dict[str, Any]:
        doc = self._sweep.status()
        spec = self._sweep.spec
        primary = {"name": spec.objectives[0].name, "goal": spec.objectives[0].goal}
        details: dict[str, Any] = {
            "runId": self.id, "target": spec.resources.effective_queue, "status": self.get_status(),
            "startTimeUtc": iso(doc.get("started")), "endTimeUtc": iso(doc.get("ended")),
            "properties": {"primary_metric_config": json.dumps(primary),
                           "resume_from": json.dumps(list(spec.resume_from)), "sweepq_reason": doc.get("reason")},
            "inputDatasets": [], "outputDatasets": [], "runDefinition": {"spec": spec.model_dump(mode="json")},
            "logFiles": {}, "submittedBy": None,
        }
        if details["status"] == "Failed":
            details["error"] = {"error": {"message": str(doc.get("reason"))}}
        return details

    def _children(self) -> list[Run]:
        records = self._client.ledger.trials(self._sweep_id)
        return [Run(self._experiment, f"{self._sweep_id}/{r['number']}", _record=r) for r in records]

    def get_children(self, recursive: bool = False, tags: Any = None, properties: Any = None, type: Any = None,
                     status: Any = None, _rehydrate_runs: bool = True) -> list[Run]:
        """The child runs (trials) in the order they were created, optionally those with one status."""
        children = self._children()
        return children if status is None else [c for c in children if c.get_status() == status]

    def get_metrics(self, name: str | None = None, recursive: bool = False, run_type: str | None = None,
                    populate: bool = False, *, _reports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """{child run id: its metrics} (the stream is read once for all of them)."""
        reports = self._sweep.metrics() if _reports is None else _reports
        return {c.id: c.get_metrics(name, _reports=reports) for c in self._children()}

    def get_hyperparameters(self) -> dict[str, str]:
        """{child run id: its parameters as a JSON string}, as HyperDrive keeps them."""
        return {c.id: json.dumps(c._trial().get("params") or {}) for c in self._children()}

    def get_file_names(self) -> list[str]:
        return []

    def get_children_sorted_by_primary_metric(self, top: int = 0, reverse: bool = False,
                                              discard_no_metric: bool = False) -> list[dict[str, Any]]:
        """Children by their best primary-metric value (best first), each with run_id, hyperparameters,
        best_primary_metric and status; those without the metric follow unless discarded."""
        spec = self._sweep.spec
        name, maximize = spec.objectives[0].name, spec.objectives[0].goal == "maximize"
        reports = self._sweep.metrics()
        scored: list[dict[str, Any]] = []
        unscored: list[dict[str, Any]] = []
        for child in self._children():
            logged = child.get_metrics(name, _reports=reports).get(name)
            if logged is None:
                trial = child._trial()
                logged = trial.get("best") if trial.get("best") is not None else trial.get("value")
            values = [v for v in (logged if isinstance(logged, list) else [logged]) if isinstance(v, (int, float))]
            best = (max if maximize else min)(values) if values else None
            row = {"run_id": child.id, "hyperparameters": json.dumps(child._trial().get("params") or {}),
                   "best_primary_metric": best, "status": child.get_status()}
            (scored if best is not None else unscored).append(row)
        ordered = sorted(scored, key=lambda r: r["best_primary_metric"], reverse=maximize != reverse)
        ordered += [] if discard_no_metric else unscored
        return ordered if top == 0 else ordered[:top]

    def _best(self, include_failed: bool, include_canceled: bool) -> tuple[dict[str, Any] | None, list[str]]:
        """The best allowed child (a row of get_children_sorted_by_primary_metric) and every child's status."""
        rows = self.get_children_sorted_by_primary_metric()
        for row in rows:
            status, value = row["status"], row["best_primary_metric"]
            allowed = (status not in ("Failed", "Canceled") or (include_failed and status == "Failed")
                       or (include_canceled and status == "Canceled"))
            if value is not None and allowed:
                return row, [r["status"] for r in rows]
        return None, [r["status"] for r in rows]

    def get_best_run_by_primary_metric(self, include_failed: bool = True, include_canceled: bool = True,
                                       include_resume_from_runs: bool = True) -> Run | None:
        """The child run with the best primary metric (see the module docstring for how it is picked)."""
        sweeps = [self]
        if include_resume_from_runs:
            sweeps += [HyperDriveRun(self._experiment, s) for s in self._sweep.spec.resume_from]
        candidates, statuses = [], []
        for sweep in sweeps:
            row, seen = sweep._best(include_failed, include_canceled)
            statuses += seen
            if row is not None:
                candidates.append(row)
        if "Completed" not in statuses:
            reason = self._sweep.status().get("reason")
            warnings.warn(f"sweep {self.id} has no completed child run ({reason or 'none ended Completed'}): "
                          "no best run", stacklevel=2)
            return None
        if not candidates:
            warnings.warn(f"no child run of {self.id} logged the primary metric: no best run", stacklevel=2)
            return None
        maximize = self._sweep.spec.objectives[0].goal == "maximize"
        best = sorted(candidates, key=lambda r: r["best_primary_metric"], reverse=maximize)[0]
        return Run(self._experiment, best["run_id"])

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True) -> dict[str, Any]:
        """Block until the sweep ends (a progress bar with show_output); returns get_details()."""
        self._sweep.wait(progress=show_output)
        details = self.get_details()
        if raise_on_error and details["status"] == "Failed":
            raise ActivityFailedException(f"sweep {self.id} failed: {details['error']['error']['message']}")
        return details

    def cancel(self) -> bool:  # type: ignore[override]
        """Cancel the sweep: queued children are canceled, running ones stopped."""
        self._sweep.cancel()
        return True

    def fail(self) -> None:
        raise NotInSweepq("HyperDriveRun.fail()", "cancel the sweep with cancel()")

    def __repr__(self) -> str:
        return f"Run(Experiment: {self._experiment.name},\nId: {self.id},\nType: hyperdrive,\nStatus: {self.get_status()})"
