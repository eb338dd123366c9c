"""Workspace and Experiment: where runs are submitted (a SweepClient on the configured Redis).

`Experiment(ws, name).submit(HyperDriveConfig)` starts a sweep and returns its HyperDriveRun;
`submit(ScriptRunConfig)` runs the script once, as a one-trial sweep, and returns that trial's run (ScriptRun),
with the same API as a child run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

from orchestrator.client import SweepClient
from orchestrator.hyperdrive.config import HyperDriveConfig, ScriptRunConfig
from orchestrator.hyperdrive.runs import Run
from orchestrator.hyperdrive.sweep_run import HyperDriveRun


class Workspace:
    """The sweepq deployment the `SWEEPQ_*` settings name; Azure's identifiers are accepted and ignored.

    `Workspace(client=SweepClient(...))` (or a SweepClient as the first argument) picks another Redis.
    """

    def __init__(self, subscription_id: Any = None, resource_group: str | None = None, workspace_name: str | None = None,
                 auth: Any = None, _location: str | None = None, _disable_service_check: bool = False,
                 _workspace_id: str | None = None, sku: str = "basic", tags: Mapping[str, str] | None = None,
                 _cloud: str = "AzureCloud", *, client: SweepClient | None = None) -> None:
        if isinstance(subscription_id, SweepClient):
            client, subscription_id = subscription_id, None
        self._client = client
        self.subscription_id = str(subscription_id or "")
        self.resource_group = resource_group or ""
        self.name = workspace_name or "sweepq"
        self.location = _location or "local"
        self.sku = sku
        self.tags = dict(tags or {})

    @property
    def client(self) -> SweepClient:
        if self._client is None:
            self._client = SweepClient()
        return self._client

    @staticmethod
    def from_config(
        path: str | None = None, auth: Any = None, _logger: Any = None, _file_name: str | None = None
    ) -> Workspace:
        return Workspace()

    @staticmethod
    def get(name: str, auth: Any = None, subscription_id: str | None = None, resource_group: str | None = None,
            location: str | None = None, cloud: str = "AzureCloud", id: str | None = None) -> Workspace:
        return Workspace(subscription_id, resource_group, name)

    def get_run(self, run_id: str) -> Run:
        """A run by id: a sweep id gives its HyperDriveRun, `<sweep id>/<n>` a child run."""
        experiment = Experiment(self, "")
        return Run(experiment, run_id) if "/" in run_id else HyperDriveRun(experiment, run_id)

    def __repr__(self) -> str:
        ids = f"subscription_id='{self.subscription_id}', resource_group='{self.resource_group}'"
        return f"Workspace.create(name='{self.name}', {ids})"


class Experiment:
    """A name runs are grouped under: each submitted sweep is named after it."""

    def __init__(self, workspace: Workspace | SweepClient | None, name: str, _skip_name_validation: bool = False,
                 _id: str | None = None, _archived_time: str | None = None, _create_in_cloud: bool = True,
                 _experiment_dto: Any = None, **kwargs: Any) -> None:
        self._workspace = Workspace(client=workspace) if isinstance(workspace, SweepClient) else workspace
        self.name = name

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace()
        return self._workspace

    @overload
    def submit(self, config: HyperDriveConfig, tags: Mapping[str, str] | None = None, **kwargs: Any) -> HyperDriveRun: ...

    @overload
    def submit(self, config: ScriptRunConfig, tags: Mapping[str, str] | None = None, **kwargs: Any) -> ScriptRun: ...

    def submit(self, config: HyperDriveConfig | ScriptRunConfig, tags: Mapping[str, str] | None = None,
               **kwargs: Any) -> Run:
        """Start a sweep (HyperDriveConfig) or one run of a script (ScriptRunConfig: a one-trial sweep)."""
        client = self.workspace.client
        if isinstance(config, ScriptRunConfig):
            sweep = client.submit(config.single_run_spec(self.name))
            return ScriptRun(self, f"{sweep.id}/0")
        if isinstance(config, HyperDriveConfig):
            return HyperDriveRun(self, client.submit(config.to_spec(self.name)).id, hyperdrive_config=config)
        raise TypeError(f"Experiment.submit takes a HyperDriveConfig or a ScriptRunConfig, not {type(config).__name__}")

    def get_runs(self, type: str | None = None, tags: Any = None, properties: Any = None,
                 include_children: bool = False) -> list[Run]:
        """This experiment's sweeps (HyperDriveRun), newest first."""
        sweeps = [s for s in self.workspace.client.sweeps() if s.get("name") == self.name]
        return [HyperDriveRun(self, s["id"]) for s in reversed(sweeps)]

    def __repr__(self) -> str:
        return f"Experiment(Name: {self.name},\nWorkspace: {self.workspace.name})"


class ScriptRun(Run):
    """The run of `Experiment.submit(ScriptRunConfig)`: the only trial of a one-trial sweep."""

    def cancel(self) -> None:
        self._sweep.cancel()

    @property
    def parent(self) -> Run | None:
        return None
