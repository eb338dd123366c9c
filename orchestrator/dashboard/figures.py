"""The sweep's charts as plotly figure dicts, built from plain data (pure: no I/O, no plotly import).

HyperDrive's studio views: each trial's metric at every interval, parallel coordinates of parameters against
the metric, 2-D and 3-D scatter of parameters against the metric; plus parameter importances.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from orchestrator.dashboard import downsample

Figure = dict[str, Any]
MARGIN = {"l": 60, "r": 20, "t": 60, "b": 50}
LAYOUT: dict[str, Any] = {"margin": MARGIN, "template": "plotly_white", "height": 420}


def _title(text: str) -> dict[str, Any]:
    return {"text": text, "x": 0.01, "xanchor": "left"}


def metric_value(trial: Mapping[str, Any], goal: str) -> float | None:
    """The value a trial is judged by in the views: its best report, else its final value (finite only)."""
    best, value = trial.get("best"), trial.get("value")  # called for every trial of every page: no lists made
    if not (isinstance(best, (int, float)) and math.isfinite(best)):
        best = None
    if not (isinstance(value, (int, float)) and math.isfinite(value)):
        return None if best is None else float(best)
    if best is None:
        return float(value)
    return float(max(best, value) if goal == "maximize" else min(best, value))


def param_names(trials: Sequence[Mapping[str, Any]]) -> list[str]:
    names: list[str] = []
    for t in trials:
        for name in t.get("params") or {}:
            if name not in names:
                names.append(name)
    return names


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values if v is not None)


def _axis(values: Sequence[Any], markup: bool = False) -> tuple[list[Any], dict[str, Any]]:
    """Values for an axis: numbers as they are; anything else as category codes with their labels.

    `markup`: the axis renders plotly's pseudo-HTML in labels (2-D cartesian axes do; parcoords and 3-D scenes
    show labels as plain text), so the labels are escaped to show a value exactly as written.
    """
    if _numeric(values):
        return list(values), {}
    labels = sorted({str(v) for v in values})
    codes = {label: i for i, label in enumerate(labels)}
    shown = [html.escape(label, quote=False) for label in labels] if markup else labels
    return [codes[str(v)] for v in values], {"tickvals": list(range(len(labels))), "ticktext": shown}


def curves(reports: Iterable[Mapping[str, Any]], trials: Sequence[Mapping[str, Any]], metric: str) -> dict[int, list[float]]:
    """Each trial's primary metric at every interval, from its latest attempt's reports (in stream order)."""
    attempts = {t["number"]: t.get("attempt") or 1 for t in trials}
    series: dict[int, list[float]] = {}
    for r in reports:
        value = (r.get("values") or {}).get(metric)
        if r["attempt"] != attempts.get(r["trial"], r["attempt"]) or not isinstance(value, (int, float)):
            continue
        series.setdefault(r["trial"], []).append(float(value))
    return series


def metrics_chart(
    reports: Iterable[Mapping[str, Any]], trials: Sequence[Mapping[str, Any]], metric: str, goal: str = "maximize"
) -> Figure:
    """One line per trial: its primary metric at every interval (latest attempt; stopped trials dashed)."""
    return curves_chart(curves(reports, trials, metric), trials, metric, goal)


def _rank_curves(series: Mapping[int, list[float]], trials: Sequence[Mapping[str, Any]], goal: str) -> list[int]:
    """Trial numbers with a curve, best first (by the trial's value, else its curve's best point)."""
    by_number = {t["number"]: t for t in trials}
    sign = -1.0 if goal == "maximize" else 1.0

    def key(n: int) -> tuple[float, int]:
        value = metric_value(by_number.get(n, {}), goal)
        if value is None:  # only then is the curve itself read (curves may be decoded lazily)
            ys = [y for y in series[n] if math.isfinite(y)]
            value = (max(ys) if goal == "maximize" else min(ys)) if ys else None
        return (math.inf if value is None else sign * value, n)

    return sorted(series, key=key)


def curves_chart(
    series: Mapping[int, list[float]], trials: Sequence[Mapping[str, Any]], metric: str, goal: str = "maximize"
) -> Figure:
    """The metric chart from per-trial curves, downsampled as `downsample` says: the best curves whole, others
    spread over the ranking and thinned, and every stopped trial's stop point exactly."""
    status = {t["number"]: t["status"] for t in trials}
    ranked = _rank_curves(series, trials, goal)
    drawn = sorted(downsample.pick_ranked(ranked, downsample.MAX_CURVES, downsample.BEST_CURVES))
    best = set(ranked[: downsample.BEST_CURVES]) if len(series) > len(drawn) else set(drawn)
    budget = downsample.curve_budget(len(drawn))
    data = []
    for n in drawn:
        ys = series[n]
        xs = range(len(ys)) if n in best else downsample.thin_indices(len(ys), budget)
        data.append({"type": "scatter", "mode": "lines+markers", "name": f"#{n}", "x": [i + 1 for i in xs],
                     "y": [ys[i] for i in xs], "line": {"dash": "dash" if status.get(n) == "stopped" else "solid"}})
    stopped = [(n, len(ys), ys[-1]) for n in sorted(series) if status.get(n) == "stopped" and (ys := series[n])]
    if stopped:
        data.append({"type": downsample.trace_type(len(stopped)), "mode": "markers", "name": "stopped here",
                     "x": [x for _, x, _ in stopped], "y": [y for _, _, y in stopped],
                     "text": [f"#{n}" for n, _, _ in stopped], "marker": {"symbol": "x", "size": 7, "color": "#b45309"}})
    title = f"{metric} per interval" + _shown(len(drawn), len(series))
    layout = {**LAYOUT, "title": _title(title),
              "xaxis": {"title": {"text": "interval"}}, "yaxis": {"title": {"text": metric}}}
    return {"data": data, "layout": layout}


def _shown(drawn: int, total: int) -> str:
    return "" if drawn >= total else f" ({drawn:,} of {total:,} trials drawn)"


Sample = tuple[list[tuple[Mapping[str, Any], float]], int]


def sample(trials: Sequence[Mapping[str, Any]], goal: str) -> Sample:
    """The trials a scatter draws with their values (downsampled: the best exactly, the rest spread), and how many
    trials have a value in all."""
    scored = [(t, v) for t in trials if (v := metric_value(t, goal)) is not None]
    if len(scored) <= downsample.MAX_POINTS:
        return scored, len(scored)
    ranked = sorted(scored, key=lambda tv: (-tv[1] if goal == "maximize" else tv[1], tv[0]["number"]))
    picked = downsample.pick_ranked(ranked, downsample.MAX_POINTS, downsample.KEEP_BEST)
    return sorted(picked, key=lambda tv: int(tv[0]["number"])), len(scored)


def parallel_coordinates(
    trials: Sequence[Mapping[str, Any]], metric: str, goal: str, sampled: Sample | None = None,
    names: Sequence[str] | None = None,
) -> Figure:
    """Parameters against the metric: one line per trial with a metric, coloured by it (downsampled; `sampled` is
    `sample(trials, goal)` when the caller has it already)."""
    scored, total = sampled or sample(trials, goal)
    dimensions = []
    for name in param_names(trials) if names is None else names:
        values, ticks = _axis([(t.get("params") or {}).get(name) for t, _ in scored])
        dimensions.append({"label": name, "values": values, **ticks})
    values = [v for _, v in scored]
    dimensions.append({"label": metric, "values": values})
    data = [{"type": "parcoords", "dimensions": dimensions,
             "line": {"color": values, "colorscale": "Viridis", "showscale": True,
                      "reversescale": goal == "minimize"}}]
    margin = {**MARGIN, "t": 100}  # parcoords puts its labels above the axes
    return {"data": data, "layout": {**LAYOUT, "margin": margin,
                                  "title": _title("parameters against " + metric + _shown(len(scored), total))}}


def default_axes(
    trials: Sequence[Mapping[str, Any]], count: int, preferred: Sequence[str] = (), names: Sequence[str] | None = None
) -> list[str]:
    """The parameters to plot: the preferred (most important) ones first, then the others in spec order."""
    names = param_names(trials) if names is None else names
    ordered = [n for n in preferred if n in names] + [n for n in names if n not in preferred]
    return ordered[:count]


def _scatter_columns(
    trials: Sequence[Mapping[str, Any]], metric: str, goal: str, axes: Sequence[str], count: int,
    sampled: Sample | None = None,
) -> tuple[list[str], list[str], list[list[Any]], list[Any], str]:
    """Hover labels, axis names and columns of a scatter chart: the chosen parameters, then the metric to fill in;
    and what the title says of downsampling."""
    scored, total = sampled or sample(trials, goal)
    names = list(axes[:count])
    columns: list[list[Any]] = [[(t.get("params") or {}).get(n) for t, _ in scored] for n in names]
    values: list[Any] = [v for _, v in scored]
    while len(columns) < count:
        columns.append(values)
        names.append(metric)
    labels = [f"#{t['number']}" + (" (infeasible)" if t.get("feasible") is False else "") for t, _ in scored]
    return labels, names, columns, values, _shown(len(scored), total)


def scatter_2d(
    trials: Sequence[Mapping[str, Any]], metric: str, goal: str, axes: Sequence[str], sampled: Sample | None = None
) -> Figure:
    """Two parameters (or one against the metric) with each trial coloured by the metric."""
    labels, names, columns, values, shown = _scatter_columns(trials, metric, goal, axes, 2, sampled)
    (x, xt), (y, yt) = _axis(columns[0], markup=True), _axis(columns[1], markup=True)
    data = [{"type": downsample.trace_type(len(x)), "mode": "markers", "x": x, "y": y, "text": labels,
             "marker": {"color": values, "colorscale": "Viridis", "showscale": True, "size": 10,
                        "reversescale": goal == "minimize", "colorbar": {"title": {"text": metric}}}}]
    layout = {**LAYOUT, "title": _title(f"{names[0]} vs {names[1]}{shown}"),
              "xaxis": {"title": {"text": names[0]}, **xt}, "yaxis": {"title": {"text": names[1]}, **yt}}
    return {"data": data, "layout": layout}


def scatter_3d(
    trials: Sequence[Mapping[str, Any]], metric: str, goal: str, axes: Sequence[str], sampled: Sample | None = None
) -> Figure:
    """Three parameters (the metric fills in when there are fewer) with each trial coloured by the metric."""
    labels, names, columns, values, shown = _scatter_columns(trials, metric, goal, axes, 3, sampled)
    converted = [_axis(c) for c in columns]
    scene = {axis: {"title": {"text": name}, **ticks}
             for axis, name, (_, ticks) in zip(("xaxis", "yaxis", "zaxis"), names, converted, strict=True)}
    data = [{"type": "scatter3d", "mode": "markers", "x": converted[0][0], "y": converted[1][0], "z": converted[2][0],
             "text": labels,
             "marker": {"color": values, "colorscale": "Viridis", "size": 5, "reversescale": goal == "minimize",
                        "showscale": True}}]
    return {"data": data, "layout": {**LAYOUT, "title": _title(" vs ".join(names) + shown), "scene": scene}}


def importance_chart(importances: Mapping[str, float]) -> Figure:
    """Parameter importances (fANOVA, from Optuna) as horizontal bars."""
    items = sorted(importances.items(), key=lambda kv: kv[1])
    data = [{"type": "bar", "orientation": "h", "x": [v for _, v in items], "y": [k for k, _ in items]}]
    title = "parameter importance" if items else "parameter importance (needs a few finished trials)"
    layout = {**LAYOUT, "title": _title(title), "xaxis": {"title": {"text": "importance"}}, "yaxis": {"automargin": True}}
    return {"data": data, "layout": layout}
