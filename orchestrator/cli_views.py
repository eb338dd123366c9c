"""The viewing commands: `sweepq dashboard`, `sweepq report` and `sweepq export`."""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path

import typer
from rich.markup import escape

OUTPUT = typer.Option(Path("report.html"), "--output", "-o", help="Where to write the HTML file.")


def dashboard(
    port: int = typer.Option(8000, "--port"),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 exposes it)."),
    allow_cancel: bool = typer.Option(False, "--allow-cancel", help="Show a cancel button (read-only otherwise)."),
    auth: str | None = typer.Option(
        None, "--auth", envvar="SWEEPQ_DASHBOARD_AUTH", help="user:password for HTTP basic auth (needed beyond loopback)."
    ),
) -> None:
    """Serve the live dashboard: every sweep, and per sweep its charts, trials, decisions and best trial."""
    import uvicorn

    from orchestrator.cli import client, err_console
    from orchestrator.dashboard.app import create_dashboard
    from orchestrator.dashboard.auth import is_loopback, parse_basic_auth

    try:
        credentials = parse_basic_auth(auth) if auth else None
    except ValueError as exc:
        err_console.print(f"[bold red]--auth[/]: {escape(str(exc))}")
        raise typer.Exit(2) from None
    if credentials is None and not is_loopback(host):
        err_console.print(f"[bold red]refusing to serve the dashboard on {escape(host)} without authentication[/]: "
                          "pass --auth user:password (or SWEEPQ_DASHBOARD_AUTH), or listen on 127.0.0.1")
        raise typer.Exit(2)
    c = client()
    app = create_dashboard(c, allow_cancel=allow_cancel, where=c.settings.redis_url.split("@")[-1], auth=credentials)
    err_console.print(f"sweepq dashboard on http://{host}:{port}/ ({'read-write' if allow_cancel else 'read-only'})")
    signal.signal(signal.SIGTERM, _interrupt)  # uvicorn re-raises it after its graceful shutdown: end as on Ctrl-C
    with contextlib.suppress(KeyboardInterrupt):  # so the command's clean-up (the local store) still runs
        uvicorn.run(app, host=host, port=port, log_level="warning")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def report(
    sweep_id: str = typer.Argument(..., help="A sweep id."),
    output: Path = OUTPUT,
) -> None:
    """Write one self-contained HTML report of a sweep (charts, trials, decisions), viewable offline."""
    from orchestrator.cli import console, open_sweep
    from orchestrator.dashboard.payload import sweep_payload
    from orchestrator.dashboard.render import report_page

    sweep = open_sweep(sweep_id)
    output.write_text(report_page(sweep_payload(sweep)), encoding="utf-8")
    console.print(f"wrote {escape(str(output))}")


def export(
    sweep_id: str = typer.Argument(..., help="A sweep id."),
    optuna_storage: str = typer.Option(..., "--optuna", help="An Optuna storage URL, e.g. sqlite:///sweeps.db"),
    study_name: str | None = typer.Option(None, "--study-name", help="Default: the sweep id."),
) -> None:
    """Write a sweep into an Optuna storage, for optuna-dashboard and optuna.visualization."""
    import optuna

    from orchestrator.cli import console, err_console, open_sweep
    from orchestrator.export import export_to_optuna

    sweep = open_sweep(sweep_id)
    try:
        study = export_to_optuna(sweep.spec, sweep.id, sweep.trials(), sweep.metrics(), optuna_storage, study_name)
    except optuna.exceptions.DuplicatedStudyError:
        err_console.print(f"[bold red]a study named {escape(study_name or sweep.id)} already exists[/] in that storage")
        raise typer.Exit(1) from None
    except ValueError as exc:  # a sweep without a metric
        err_console.print(f"[bold red]cannot export {escape(sweep.id)}[/]: {escape(str(exc))}")
        raise typer.Exit(1) from None
    console.print(f"exported {len(study.trials)} trials to study {escape(study.study_name)} in {escape(optuna_storage)}")


def register(app: typer.Typer) -> None:
    for command in (dashboard, report, export):
        app.command()(command)
