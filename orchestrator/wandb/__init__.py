"""W&B's Python API on sweepq: `import orchestrator.wandb as wandb` and W&B sweep code runs with only that line changed.

    sweep_id = wandb.sweep(config, project="demo")       # a W&B sweep config dict; returns the sweep id
    wandb.agent(sweep_id, function=train, count=5)        # 5 trials of it, run here, one after the other

`sweep` validates the config as W&B does (through sweepq's W&B dialect; a refusal names each bad field) and
creates a sweep whose trials only agents take. `agent` runs up to `count` of its trials in this process: each
calls `function()`, in which `wandb.init()`, `wandb.config`, `wandb.log` and `run.summary` belong to that trial; a
stop request (early termination, cancel) ends the trial at its next `wandb.log`; an exception fails the trial and
the agent goes on with the next one. Agents in several processes or machines share one sweep's trials, none twice.
See `orchestrator.agent` for how. The run object and everything else is the command-trial drop-in's
(`workers/wandb_shim/wandb`); what it lacks raises `wandb.Unsupported`, naming it and what sweepq offers instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.agent import Agent, AgentError, FunctionRunner, agent_sweep_spec, resolve_settings
from orchestrator.settings import Settings as SweepqSettings
from workers.wandb_shim.wandb._core import Binding, Run, Session, Settings, login
from workers.wandb_shim.wandb._values import Config, Error, Summary, Unsupported

__all__ = ["AgentError", "Config", "Error", "Run", "Settings", "Summary", "Unsupported", "agent", "define_metric",
           "finish", "init", "log", "login", "save", "sweep"]


def _print_row(values: dict[str, float], step: int | None) -> None:
    """Outside an agent (the function called by hand), a run prints its rows like report() does."""
    pairs = " ".join(f"{k}={v}" for k, v in values.items())
    print(pairs + ("" if step is None else f" step={step}"), flush=True)


_session = Session(lambda: Binding(emit=_print_row))
init = _session.init
log = _session.log
finish = _session.finish
save = _session.save
define_metric = _session.define_metric


def sweep(
    sweep: Mapping[str, Any] | Callable[[], Mapping[str, Any]], entity: str | None = None, project: str | None = None,
    prior_runs: list[str] | None = None, *, settings: SweepqSettings | None = None,
) -> str:
    """Create a sweep from a W&B sweep config (a dict, or a function returning one) for agents; returns its id."""
    from orchestrator.client import SweepClient

    if prior_runs:
        raise Unsupported("wandb.sweep(prior_runs=...) is not implemented by sweepq: warm-start from earlier sweeps with "
                          "the native spec's resume_from")
    config = dict(sweep() if callable(sweep) else sweep)
    spec = agent_sweep_spec(config, dialect="wandb", function=True)  # without a program: for function agents only
    client = SweepClient(settings=resolve_settings(settings))
    created = client.submit(spec)
    client.ledger.update_sweep(created.id, {"wandb": {"project": project or config.get("project"),
                                                      "entity": entity or config.get("entity")}})
    print(f"Create sweep with ID: {created.id}", file=sys.stderr, flush=True)
    return created.id


def agent(
    sweep_id: str, function: Callable[[], Any] | None = None, entity: str | None = None, project: str | None = None,
    count: int | None = None, *, settings: SweepqSettings | None = None,
) -> None:
    """Run up to `count` trials of the sweep here (all it has when count is None): `function` for each, or the
    sweep's program when no function is given. `sweep_id` may be W&B's "entity/project/id"."""
    if count is not None and count < 1:
        raise ValueError(f"count must be a positive number of trials, got {count}")
    resolved = resolve_settings(settings)
    sweep_id = sweep_id.rsplit("/", 1)[-1]
    runner = None if function is None else FunctionRunner(function, _session, project, entity)
    worker = Agent(resolved, sweep_id, runner, count)
    if runner is not None:
        meta = worker.doc.get("wandb") or {}
        runner.project, runner.entity = project or meta.get("project"), entity or meta.get("entity")
    print(f"Starting wandb agent: sweep {sweep_id}" + ("" if count is None else f", count {count}"), file=sys.stderr)
    statuses = worker.run()
    print(f"wandb agent: {sum(statuses.values())} trial(s) of {sweep_id}: " +
          ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())), file=sys.stderr, flush=True)


def __getattr__(name: str) -> Any:
    if name in ("keras", "integration"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    return _session.attribute(name)

