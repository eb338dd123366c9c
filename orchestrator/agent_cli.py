"""`sweepq agent SWEEP [--count N] [--function module:fn]`: W&B's `wandb agent`, trials run in this process."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape

from orchestrator.agent import Agent, AgentError, FunctionRunner, agent_sweep_spec, resolve_settings
from orchestrator.loading import SpecError


def agent(
    sweep: str = typer.Argument(..., help="A sweep id, or a sweep config file (W&B or native) to create an agent sweep."),
    count: int | None = typer.Option(None, "--count", min=1, help="Run at most N trials, then exit (W&B's --count)."),
    function: str | None = typer.Option(
        None, "--function", help="module:function called with no arguments for each trial (it calls wandb.init()).",
    ),
    dialect: str = typer.Option("auto", "--dialect", help="For a config file: native, wandb or auto (by its keys)."),
) -> None:
    """Run a sweep's trials in this process, one after the other, up to --count (W&B's `wandb agent`).

    Agents share a sweep's trials, none twice; each also runs the scheduler and evaluator unless another leads.
    """
    from orchestrator.cli import err_console, report_spec_error
    from orchestrator.client import SweepClient
    from orchestrator.wandb import _session

    settings = resolve_settings()
    if Path(sweep).is_file():
        try:
            spec = agent_sweep_spec(sweep, dialect, function=function is not None)
        except SpecError as exc:
            report_spec_error(exc)
            raise typer.Exit(2) from None
        sweep = SweepClient(settings=settings).submit(spec).id
        print(sweep, flush=True)
    runner = None
    if function is not None:
        sys.path.insert(0, ".")  # W&B's agent imports the function from where it runs
        from workers.runners.python_fn import load_callable

        try:
            runner = FunctionRunner(load_callable(function), _session)
        except (ImportError, AttributeError, ValueError) as exc:
            err_console.print(f"[bold red]--function[/]: cannot load {escape(function)!r}: {escape(str(exc))}")
            raise typer.Exit(2) from None
    try:
        worker = Agent(settings, sweep.rsplit("/", 1)[-1], runner, count)
    except AgentError as exc:
        err_console.print(f"[bold red]cannot run an agent[/]: {escape(str(exc))}")
        raise typer.Exit(1) from None
    statuses = worker.run()
    summary = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "no trial"
    err_console.print(f"agent: {worker.ran} trial(s) of {escape(worker.sweep_id)}: {escape(summary)}", highlight=False)
