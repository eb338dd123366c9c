"""The `sweepq` command: validate specs, run sweeps locally or on a cluster, and look at results."""

from __future__ import annotations

import csv
import itertools
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from orchestrator.client import Sweep, SweepClient
from orchestrator.loading import SpecError, load_spec
from orchestrator.progress import decisions_table, outcome_line, sweeps_table, trials_table
from orchestrator.ranking import Ranking
from orchestrator.settings import Settings
from orchestrator.spec import Metric
from orchestrator.summary import spec_summary

app = typer.Typer(
    name="sweepq",
    help=(
        "Distributed hyperparameter sweeps on Celery + Redis + Optuna.\n\n"
        "Describe a search space, a metric and an early-termination policy in a YAML spec; sweepq samples "
        "trials, runs them on CPU/GPU workers, stops poor ones early and hands back the best configuration."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
if not console.is_terminal:
    console.width = 160  # piped or captured output: wide enough that trial tables do not wrap every cell
err_console = Console(stderr=True, soft_wrap=True)

EXPLICIT_REDIS: list[str] = []  # a --redis given on the command line (local mode then uses it)
SPEC_ARG = typer.Argument(..., help="Path to a sweep spec (YAML or JSON).", show_default=False)
DIALECT = typer.Option("auto", "--dialect", help="native, wandb (a W&B sweep config) or auto (by its keys).")


def report_spec_error(exc: SpecError) -> None:
    """Print every problem of a refused spec with its field path (no traceback)."""
    where = f" {escape(exc.source)}" if exc.source else ""
    err_console.print(f"[bold red]invalid sweep spec{where}[/] ({len(exc.problems)} problem(s)):", highlight=False)
    for problem in exc.problems:
        path = f"[bold]{escape(problem.path)}[/]: " if problem.path else ""
        err_console.print(f"  - {path}{escape(problem.message)}", highlight=False)


def _version(value: bool) -> None:
    if value:
        from orchestrator import __version__

        console.print(f"sweepq {__version__}")
        raise typer.Exit()


# Commands that read (or steer) sweeps: with no Redis URL configured they open the local store when it exists.
LOCAL_STORE_COMMANDS = {"status", "trials", "best", "report", "dashboard", "export", "decisions", "cancel", "stop",
                        "pause", "resume"}


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    redis_url: str | None = typer.Option(
        None, "--redis", help="Redis URL (broker and ledger); default $SWEEPQ_REDIS_URL, else the local store "
        "(./.sweepq, $SWEEPQ_DATA_DIR) when it exists, else redis://127.0.0.1:6379/0."
    ),
) -> None:
    """Distributed hyperparameter sweeps on Celery + Redis + Optuna."""
    if redis_url:
        os.environ["SWEEPQ_REDIS_URL"] = redis_url  # every process this command starts inherits it
        EXPLICIT_REDIS.append(redis_url)
    elif ctx.invoked_subcommand in LOCAL_STORE_COMMANDS:
        _open_local_store(ctx)


def _open_local_store(ctx: typer.Context) -> None:
    """With no Redis URL configured and a local store in the data folder, start its server for this command."""
    from orchestrator.local import LocalError, ensure_local_redis, release_local_redis

    config = settings()
    if "redis_url" in config.model_fields_set or not (config.data_dir / "server.json").is_file():
        return
    try:
        os.environ["SWEEPQ_REDIS_URL"] = ensure_local_redis(config.data_dir)
        for name in ("SWEEPQ_REDIS_PASSWORD", "SWEEPQ_REDIS_USERNAME"):  # the store's URL carries its own
            os.environ.pop(name, None)
    except LocalError as exc:
        err_console.print(f"[bold red]cannot open the local store[/] {escape(str(config.data_dir))}: {escape(str(exc))}")
        raise typer.Exit(1) from None
    ctx.call_on_close(lambda: release_local_redis(config.data_dir))


def settings() -> Settings:
    """Settings from the environment, with a readable error instead of a traceback when one is invalid."""
    try:
        return Settings()
    except ValidationError as exc:
        err_console.print(f"[bold red]invalid settings[/]: {escape(str(exc))}")
        raise typer.Exit(2) from None


def client() -> SweepClient:
    return SweepClient(settings=settings())


def open_sweep(sweep_id: str) -> Sweep:
    try:
        return client().sweep(sweep_id)
    except KeyError:
        err_console.print(f"[bold red]no sweep[/] {escape(sweep_id)}")
        raise typer.Exit(1) from None


@app.command()
def validate(spec: Path = SPEC_ARG, dialect: str = DIALECT) -> None:
    """Check a sweep spec and print a summary; on an invalid spec, list every problem and exit with 2."""
    try:
        parsed = load_spec(spec, dialect)
    except SpecError as exc:
        report_spec_error(exc)
        raise typer.Exit(2) from None
    console.print(spec_summary(parsed))
    console.print(f"[green]valid[/]: {spec}")


@app.command()
def submit(
    spec: Path = SPEC_ARG,
    dialect: str = DIALECT,
    wait: bool = typer.Option(False, "--wait", help="Wait for the sweep to end, with a progress bar."),
) -> None:
    """Submit a sweep to the scheduler serving this Redis; prints its id."""
    try:
        sweep = client().submit(load_spec(spec, dialect))
    except SpecError as exc:
        report_spec_error(exc)
        raise typer.Exit(2) from None
    console.print(sweep.id, highlight=False)
    if wait:
        final = sweep.wait(progress=True)
        console.print(f"{escape(sweep.id)}: {escape(outcome_line(final))}", highlight=False)
        if final["status"] == "failed":
            raise typer.Exit(1)


@app.command()
def status(
    sweep_id: str | None = typer.Argument(None, help="A sweep id; all sweeps when omitted."),
    watch_: bool = typer.Option(False, "--watch", help="Follow the sweep with a live progress bar until it ends."),
) -> None:
    """Show every sweep (or one) with its progress and best value."""
    if sweep_id is None:
        console.print(sweeps_table(client().sweeps()))
        return
    sweep = open_sweep(sweep_id)
    if watch_:
        sweep.wait(progress=True)
    now = sweep.status()
    console.print(sweeps_table([now]))
    if now.get("reason"):
        console.print(escape(outcome_line(now)), highlight=False)  # why it ended: failed sweeps quote their errors


@app.command()
def trials(
    sweep_id: str = typer.Argument(..., help="A sweep id."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv."),
) -> None:
    """List a sweep's trials with their state, metric, parameters and errors."""
    sweep = open_sweep(sweep_id)
    if fmt == "json":  # json and csv stream: the trials are read in batches and written as they come
        write_json(sweep.iter_trials(), sys.stdout)
    elif fmt == "csv":
        write_csv(sweep.iter_trials(), sys.stdout, sweep.spec.space.names)
    elif fmt == "table":
        metric = sweep.spec.metric
        console.print(trials_table(sweep.trials(), metric.name if metric else None))
    else:
        err_console.print(f"[bold red]--format[/]: {escape(fmt)!r} is not one of table, json, csv")
        raise typer.Exit(2)


@app.command()
def best(
    sweep_id: str = typer.Argument(..., help="A sweep id."),
    as_json: bool = typer.Option(False, "--json", help="Print the best trial as JSON."),
) -> None:
    """Print the best trial and its parameters."""
    sweep = open_sweep(sweep_id)
    if len(sweep.spec.objectives) > 1:
        front = sweep.best_trials()
        if as_json:
            typer.echo(json.dumps(front, indent=2))
        else:
            console.print(f"[bold]Pareto front[/]: {len(front)} trial(s)")
            for t in front:
                values = ", ".join(f"{k} = {v:.6g}" for k, v in t["objectives"].items())
                console.print(f"  #{t['number']}: {escape(values)}  {escape(json.dumps(t['params']))}", highlight=False)
        return
    metric = sweep.spec.metric
    if metric is None:
        err_console.print(f"{escape(sweep_id)}: this sweep has no metric, so it has no best trial (see `sweepq trials`)")
        raise typer.Exit(1)
    trial = sweep.best_trial()
    if trial is None:
        err_console.print(f"{escape(sweep_id)}: no completed trial with a metric yet")
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(trial, indent=2))
        return
    print_best(metric, trial)


def print_outcome(sweep_id: str, final: dict[str, Any], metric: Metric | None, best: dict[str, Any] | None) -> int:
    """How a sweep ended and its best trial; returns the exit code: 1 when it failed or no trial has a metric."""
    console.print(f"sweep {escape(sweep_id)}: {escape(outcome_line(final))}", highlight=False)
    if final["status"] == "failed":
        return 1
    if metric is None:
        err_console.print("no metric: this sweep has no best trial")
        return 0
    if best is None:
        err_console.print("no trial produced a metric")
        return 1
    print_best(metric, best)
    return 0


def print_best(metric: Metric, trial: dict[str, Any]) -> None:
    """The best trial's ranked value (metric.summary) and its parameters."""
    value = Ranking(metric.goal, metric.summary).score(trial)
    console.print(f"[bold]best trial[/] #{trial['number']}: {escape(metric.name)} = {value}", highlight=False)
    for name, v in sorted((trial.get("params") or {}).items()):
        console.print(f"  {escape(name)} = {escape(repr(v))}", highlight=False)


SWEEP_ARG = typer.Argument(..., help="A sweep id.")


@app.command()
def cancel(sweep_id: str = SWEEP_ARG) -> None:
    """Cancel a sweep: queued trials are dropped, running ones stopped (and killed after the grace period)."""
    open_sweep(sweep_id).cancel()
    console.print(f"cancel requested: {escape(sweep_id)}")


@app.command()
def stop(sweep_id: str = SWEEP_ARG) -> None:
    """Stop a sweep gently: no new trials, running ones finish (W&B's stop)."""
    open_sweep(sweep_id).stop()
    console.print(f"stop requested: {escape(sweep_id)}")


@app.command()
def pause(sweep_id: str = SWEEP_ARG) -> None:
    """Pause a sweep: no new trials until `sweepq resume`; running ones go on."""
    open_sweep(sweep_id).pause()
    console.print(f"paused: {escape(sweep_id)}")


@app.command()
def resume(sweep_id: str = SWEEP_ARG) -> None:
    """Resume a paused sweep."""
    open_sweep(sweep_id).resume()
    console.print(f"resumed: {escape(sweep_id)}")


@app.command()
def decisions(
    sweep_id: str = typer.Argument(..., help="A sweep id."),
    stops_only: bool = typer.Option(False, "--stops", help="Only the decisions that stopped a trial."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The early-termination decisions of a sweep (every stop; continues counted unless the evaluator keeps them)."""
    sweep = open_sweep(sweep_id)
    rows = [d for d in sweep.decisions() if d["stop"] or not stops_only]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    console.print(decisions_table(rows))
    counts = sweep.decision_counts()
    if counts["continue"] > counts["continue_listed"] and not stops_only:
        console.print(f"{counts['stop']} stop decisions listed; continue decisions: {counts['continue']} counted, "
                      "not listed (SWEEPQ_KEEP_CONTINUE_DECISIONS=true on the evaluator lists them)")


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO, names: Iterable[str] = ()) -> None:
    """Trials as CSV, row by row: fixed columns, then one column per parameter (the space's names and any other
    the first thousand trials have)."""
    rows = iter(rows)
    first = list(itertools.islice(rows, 1000))
    params = sorted(set(names) | {k for r in first for k in (r.get("params") or {})})
    columns = ["number", "status", "value", "best", "reports", "attempt", "started", "ended", "worker", "error"]
    writer = csv.writer(out)
    writer.writerow(columns + params)
    for r in itertools.chain(first, rows):
        writer.writerow([r.get(c) for c in columns] + [(r.get("params") or {}).get(n) for n in params])


def write_json(rows: Iterable[dict[str, Any]], out: TextIO) -> None:
    """Trials as one JSON array, written row by row (the text json.dumps(rows, indent=2) gives)."""
    out.write("[")
    count = 0
    for row in rows:
        out.write(("," if count else "") + "\n  " + json.dumps(row, indent=2).replace("\n", "\n  "))
        count += 1
    out.write("\n]\n" if count else "]\n")


from orchestrator import cli_processes, cli_views  # noqa: E402  - register the process and view commands

cli_processes.register(app)
cli_views.register(app)
from orchestrator.agent_cli import agent as _agent  # noqa: E402  - `sweepq agent` (W&B's `wandb agent`)

app.command(name="agent")(_agent)


REDIS_UNAVAILABLE = 3  # exit code: Redis cannot be reached, or refuses sweepq's credentials


def redis_failure(exc: BaseException) -> str | None:
    """One line for a Redis that cannot be reached or refuses the credentials, found anywhere in exc's chain."""
    import redis
    from redis.exceptions import AuthorizationError, NoPermissionError

    from orchestrator.local import redacted

    where = redacted(os.environ.get("SWEEPQ_REDIS_URL", "redis://127.0.0.1:6379/0"))
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, redis.AuthenticationError | AuthorizationError | NoPermissionError):
            return f"Redis at {where} refused sweepq's credentials ({cur}): check SWEEPQ_REDIS_PASSWORD, " \
                   "SWEEPQ_REDIS_USERNAME or the URL"
        if isinstance(cur, redis.ConnectionError | redis.TimeoutError):
            return f"cannot reach Redis at {where} ({cur}): check SWEEPQ_REDIS_URL or --redis, and that it runs"
        broker = sys.modules.get("kombu.exceptions")
        if broker is not None and isinstance(cur, broker.OperationalError):
            return f"cannot reach the broker at {where} ({cur})"
        cur = cur.__cause__ or cur.__context__
    return None


def main() -> None:
    """Console-script entry point: an unreachable Redis or refused credentials give one line and exit 3."""
    try:
        app()
    except Exception as exc:
        reason = redis_failure(exc)
        if reason is None:
            raise
        err_console.print(f"[bold red]sweepq[/]: {escape(reason)}", highlight=False)
        raise SystemExit(REDIS_UNAVAILABLE) from None


if __name__ == "__main__":
    main()
