"""Human-readable summaries of a spec (what `sweepq validate` prints), built as rich renderables."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from rich.console import Group
from rich.table import Table
from rich.text import Text

from orchestrator.spec import CommandTrial, SweepSpec
from orchestrator.spec_sampling import GridSampling


def _fields(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(exclude_none=True)


def _pairs(fields: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in fields.items())


def _policy_text(spec: SweepSpec) -> str:
    et = _fields(spec.early_termination)
    name = et.pop("policy")
    return "none (every trial runs to its end)" if name == "none" else f"{name}({_pairs(et)})"


def _sampling_text(spec: SweepSpec) -> str:
    s = _fields(spec.sampling)
    method, extra = s.pop("method"), _pairs(s)
    if method == "auto":  # say what it picks for this space and budget
        from orchestrator.samplers import auto_method

        method = f"auto -> {auto_method(spec)}"
    return f"{method} ({extra})" if extra else method


def _metric_text(spec: SweepSpec) -> str:
    m = spec.metric
    if m is None:
        return "none (every trial runs; no best trial)"
    target = f", target {m.target}" if m.target is not None else ""
    return f"{m.name} ({m.goal}, ranked by its {'best report' if m.summary == 'best' else 'final value'}{target})"


def warnings_of(spec: SweepSpec) -> list[str]:
    """Advice that is not an error: HyperDrive's budget rule for Bayesian sampling, and the like."""
    out: list[str] = []
    n = len(spec.space.names)
    runs = spec.limits.max_total_runs
    if spec.sampling.method == "bayesian" and runs is not None and runs < 20 * n:
        out.append(f"bayesian sampling works best with max_total_runs >= 20 x {n} parameters = {20 * n}")
    if spec.sampling.method == "grid" and runs is not None and runs < spec.space.grid_size():
        out.append(f"max_total_runs={runs} covers only part of the {spec.space.grid_size()}-point grid")
    return out


def spec_summary(spec: SweepSpec) -> Group:
    """Parameters, method, metric, policy, limits and resources, with the grid size for grid sampling."""
    params = Table(title="parameters", title_justify="left", show_edge=False)
    params.add_column("name", style="bold")
    params.add_column("expression")
    for name, expr in spec.space.expressions.items():
        params.add_row(Text(name), Text(expr.describe()))

    info = Table.grid(padding=(0, 2))
    info.add_column(style="bold cyan")
    info.add_column()
    rows: list[tuple[str, Any]] = [
        ("sweep", spec.name),
        ("trial", " ".join(spec.trial.command) if isinstance(spec.trial, CommandTrial) else spec.trial.function),
        ("sampling", _sampling_text(spec)),
        ("metric", _metric_text(spec)),
        ("early termination", _policy_text(spec)),
        ("limits", _pairs(_fields(spec.limits)) or "none"),
        ("resources", f"queue {spec.resources.effective_queue}, {spec.resources.gpus_per_trial} GPU(s) per trial"),
    ]
    if isinstance(spec.sampling, GridSampling):
        rows.append(("grid points", str(spec.space.grid_size())))
    rows.append(("trials", str(spec.total_runs) if spec.total_runs else "until max_duration_minutes"))
    if spec.resume_from:
        rows.append(("warm start from", ", ".join(spec.resume_from)))
    for key, value in rows:
        info.add_row(key, Text(str(value)))
    parts: list[Any] = [info, Text(""), params]
    parts += [Text(f"note: {w}", style="yellow") for w in warnings_of(spec)]
    return Group(*parts)
