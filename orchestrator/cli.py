"""The `sweepq` command: validate specs, run sweeps locally or on a cluster, and look at results."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from orchestrator.loading import SpecError, load_spec
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
err_console = Console(stderr=True, soft_wrap=True)

SPEC_ARG = typer.Argument(..., help="Path to a sweep spec (YAML or JSON).", show_default=False)


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


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Distributed hyperparameter sweeps on Celery + Redis + Optuna."""


@app.command()
def validate(spec: Path = SPEC_ARG) -> None:
    """Check a sweep spec and print a summary; on an invalid spec, list every problem and exit with 2."""
    try:
        parsed = load_spec(spec)
    except SpecError as exc:
        report_spec_error(exc)
        raise typer.Exit(2) from None
    console.print(spec_summary(parsed))
    console.print(f"[green]valid[/]: {spec}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
