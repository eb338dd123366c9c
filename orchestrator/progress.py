"""Live progress and tables with rich: the bar `wait(progress=True)`, `sweepq run` and `status --watch` show."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from orchestrator.client import ENDED
from orchestrator.store.codec import metric_float

if TYPE_CHECKING:
    from orchestrator.client import Sweep

DONE = ("completed", "failed", "stopped", "canceled")


NO_METRIC = "no metric"


def best_text(status: dict[str, Any]) -> str:
    """The sweep's best value so far as `value (#trial)`, `—` before there is one, or `no metric`."""
    if not status.get("metric"):
        return NO_METRIC
    best = status.get("best")
    if not best:
        return "—"
    value = metric_float(best["value"])  # infinities are stored as "inf" / "-inf"
    return f"{best['value'] if value is None else format(value, '.6g')} (#{best['number']})"


def progress_line(status: dict[str, Any]) -> str:
    """running / stopped / failed counts and the best value so far, as one line of text."""
    counts = status.get("counts") or {}
    metric = status.get("metric")
    best = f"best {metric['name']} {best_text(status)}" if metric else NO_METRIC
    return (
        f"running {counts.get('running', 0)} · queued {counts.get('queued', 0)} · stopped {counts.get('stopped', 0)} · "
        f"failed {counts.get('failed', 0)} · {best}"
    )


def outcome_line(status: dict[str, Any]) -> str:
    """How a sweep ended (or stands) and why, e.g. `failed: no trial succeeded ...`."""
    reason = status.get("reason")
    return f"{status['status']}: {reason}" if reason else str(status["status"])


def _done(status: dict[str, Any]) -> int:
    counts = status.get("counts") or {}
    return sum(counts.get(s, 0) for s in DONE)


def watch(
    sweep: Sweep,
    *,
    timeout: float | None,
    progress: bool,
    poll: float,
    console: Console | None = None,
    check: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Poll the sweep until it ends; TimeoutError names the sweep and its state when `timeout` passes."""
    deadline = None if timeout is None else time.monotonic() + timeout
    status = sweep.status()
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[line]}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console or Console(stderr=True), disable=not progress,
        transient=False,
    )
    with bar:
        task = bar.add_task(escape(status["name"]), total=status.get("total"), line="")
        while True:
            status = sweep.status()
            total = status.get("total") or None
            bar.update(task, completed=_done(status), total=total, line=escape(progress_line(status)))
            if status["status"] in ENDED:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"sweep {sweep.id} still {status['status']} after {timeout} s ({progress_line(status)})")
            if check is not None:
                check()
            time.sleep(poll)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def trials_table(trials: list[dict[str, Any]], metric: str | None) -> Table:
    """Trials as a rich table: number, status, metric (final, best), parameters, duration, error."""
    metric = metric or "value"
    names = sorted({k for t in trials for k in (t.get("params") or {})})
    table = Table(show_lines=False, header_style="bold")
    errors = any(t.get("error") for t in trials)
    constrained = ("feasible",) if any("feasible" in t for t in trials) else ()  # a constrained sweep's trials
    for column in ("#", "status", metric, "best", *constrained, *names, "seconds", *(("error",) if errors else ())):
        table.add_column(escape(column), overflow="fold", no_wrap=column in ("#", "status"))
    for t in trials:
        seconds = t["ended"] - t["started"] if t.get("ended") and t.get("started") else None
        error = (t.get("error") or "").strip().splitlines()
        row = [str(t["number"]), t["status"], _fmt(t.get("value")), _fmt(t.get("best"))]
        row += [{True: "yes", False: "NO"}.get(bool(t["feasible"]), "") if t.get("feasible") is not None else ""
                for _ in constrained]
        row += [_fmt((t.get("params") or {}).get(n)) for n in names]
        row += [f"{seconds:.1f}" if seconds is not None else "", *((error[-1] if error else "",) if errors else ())]
        table.add_row(*(escape(c) for c in row))
    return table


def sweeps_table(sweeps: list[dict[str, Any]]) -> Table:
    """Every sweep: id, name, status, progress, best value, elapsed time."""
    table = Table(header_style="bold")
    for column in ("sweep", "name", "status", "done", "running", "best", "elapsed"):
        table.add_column(column)
    for s in sweeps:
        end = s.get("ended") or time.time()
        elapsed = end - s["started"] if s.get("started") else 0.0
        best = s.get("best")
        done = f"{_done(s)}/{s.get('total') or '?'}"
        best_cell = NO_METRIC if not s.get("metric") else "" if not best else _fmt(best["value"])
        row = [s["id"], s["name"], s["status"], done, str((s.get("counts") or {}).get("running", 0)),
               best_cell, f"{elapsed:.0f} s"]
        table.add_row(*(escape(c) for c in row))
    return table


def decisions_table(decisions: list[dict[str, Any]]) -> Table:
    """Early-termination decisions: trial, interval, value, threshold, stop or continue, policy, reason."""
    table = Table(header_style="bold")
    for column in ("trial", "interval", "value", "threshold", "decision", "policy", "reason"):
        table.add_column(column, overflow="fold")
    for d in decisions:
        row = [str(d["trial"]), str(d["interval"]), _fmt(d.get("value")), _fmt(d.get("threshold")),
               "stop" if d["stop"] else "continue", d["policy"], d["reason"]]
        table.add_row(*(escape(c) for c in row))
    return table
