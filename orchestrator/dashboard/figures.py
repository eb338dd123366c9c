"""The sweep's charts as plotly figure dicts, built from plain data (pure: no I/O, no plotly import).

HyperDrive's studio views: each trial's metric at every interval, parallel coordinates of parameters against
the metric, 2-D and 3-D scatter of parameters against the metric; plus parameter importances.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

Figure = dict[str, Any]
MARGIN = {"l": 60, "r": 20, "t": 60, "b": 50}
LAYOUT: dict[str, Any] = {"margin": MARGIN, "template": "plotly_white", "height": 420}


def _title(text: str) -> dict[str, Any]:
    return {"text": text, "x": 0.01, "xanchor": "left"}


def metric_value(trial: Mapping[str, Any], goal: str) -> float | None:
    """The value a trial is judged by in the views: its best report, else its final value (finite only)."""
    values = [v for v in (trial.get("best"), trial.get("value")) if isinstance(v, (int, float)) and math.isfinite(v)]
    if not values:
        return None
    return float(max(values) if goal == "maximize" else min(values))


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


def metrics_chart(reports: Sequence[Mapping[str, Any]], trials: Sequence[Mapping[str, Any]], metric: str) -> Figure:
    """One line per trial: its primary metric at every interval (latest attempt; stopped trials dashed)."""
    status = {t["number"]: t["status"] for t in trials}
    attempts = {t["number"]: t.get("attempt") or 1 for t in trials}
    series: dict[int, list[float]] = {}
    for r in reports:
        value = (r.get("values") or {}).get(metric)
        if r["attempt"] != attempts.get(r["trial"], r["attempt"]) or not isinstance(value, (int, float)):
            continue
        series.setdefault(r["trial"], []).append(float(value))
    data = [
        {"type": "scatter", "mode": "lines+markers", "name": f"#{n}", "x": list(range(1, len(ys) + 1)), "y": ys,
         "line": {"dash": "dash" if status.get(n) == "stopped" else "solid"}}
        for n, ys in sorted(series.items())
    ]
    layout = {**LAYOUT, "title": _title(f"{metric} per interval"),
              "xaxis": {"title": {"text": "interval"}}, "yaxis": {"title": {"text": metric}}}
    return {"data": data, "layout": layout}


def parallel_coordinates(trials: Sequence[Mapping[str, Any]], metric: str, goal: str) -> Figure:
    """Parameters against the metric: one line per trial with a metric, coloured by it."""
    scored = [(t, v) for t in trials if (v := metric_value(t, goal)) is not None]
    dimensions = []
    for name in param_names(trials):
        values, ticks = _axis([(t.get("params") or {}).get(name) for t, _ in scored])
        dimensions.append({"label": name, "values": values, **ticks})
    values = [v for _, v in scored]
    dimensions.append({"label": metric, "values": values})
    data = [{"type": "parcoords", "dimensions": dimensions,
             "line": {"color": values, "colorscale": "Viridis", "showscale": True,
                      "reversescale": goal == "minimize"}}]
    margin = {**MARGIN, "t": 100}  # parcoords puts its labels above the axes
    return {"data": data, "layout": {**LAYOUT, "margin": margin, "title": _title("parameters against " + metric)}}


def default_axes(trials: Sequence[Mapping[str, Any]], count: int, preferred: Sequence[str] = ()) -> list[str]:
    """The parameters to plot: the preferred (most important) ones first, then the others in spec order."""
    names = param_names(trials)
    ordered = [n for n in preferred if n in names] + [n for n in names if n not in preferred]
    return ordered[:count]


def _scatter_columns(
    trials: Sequence[Mapping[str, Any]], metric: str, goal: str, axes: Sequence[str], count: int
) -> tuple[list[str], list[str], list[list[Any]], list[Any]]:
    """Hover labels, axis names and columns of a scatter chart: the chosen parameters, then the metric to fill in."""
    scored = [(t, v) for t in trials if (v := metric_value(t, goal)) is not None]
    names = list(axes[:count])
    columns: list[list[Any]] = [[(t.get("params") or {}).get(n) for t, _ in scored] for n in names]
    values: list[Any] = [v for _, v in scored]
    while len(columns) < count:
        columns.append(values)
        names.append(metric)
    return [f"#{t['number']}" for t, _ in scored], names, columns, values


def scatter_2d(trials: Sequence[Mapping[str, Any]], metric: str, goal: str, axes: Sequence[str]) -> Figure:
    """Two parameters (or one against the metric) with each trial coloured by the metric."""
    labels, names, columns, values = _scatter_columns(trials, metric, goal, axes, 2)
    (x, xt), (y, yt) = _axis(columns[0], markup=True), _axis(columns[1], markup=True)
    data = [{"type": "scatter", "mode": "markers", "x": x, "y": y, "text": labels,
             "marker": {"color": values, "colorscale": "Viridis", "showscale": True, "size": 10,
                        "reversescale": goal == "minimize", "colorbar": {"title": {"text": metric}}}}]
    layout = {**LAYOUT, "title": _title(f"{names[0]} vs {names[1]}"),
              "xaxis": {"title": {"text": names[0]}, **xt}, "yaxis": {"title": {"text": names[1]}, **yt}}
    return {"data": data, "layout": layout}


def scatter_3d(trials: Sequence[Mapping[str, Any]], metric: str, goal: str, axes: Sequence[str]) -> Figure:
    """Three parameters (the metric fills in when there are fewer) with each trial coloured by the metric."""
    labels, names, columns, values = _scatter_columns(trials, metric, goal, axes, 3)
    converted = [_axis(c) for c in columns]
    scene = {axis: {"title": {"text": name}, **ticks}
             for axis, name, (_, ticks) in zip(("xaxis", "yaxis", "zaxis"), names, converted, strict=True)}
    data = [{"type": "scatter3d", "mode": "markers", "x": converted[0][0], "y": converted[1][0], "z": converted[2][0],
             "text": labels,
             "marker": {"color": values, "colorscale": "Viridis", "size": 5, "reversescale": goal == "minimize",
                        "showscale": True}}]
    return {"data": data, "layout": {**LAYOUT, "title": _title(" vs ".join(names)), "scene": scene}}


def importance_chart(importances: Mapping[str, float]) -> Figure:
    """Parameter importances (fANOVA, from Optuna) as horizontal bars."""
    items = sorted(importances.items(), key=lambda kv: kv[1])
    data = [{"type": "bar", "orientation": "h", "x": [v for _, v in items], "y": [k for k, _ in items]}]
    title = "parameter importance" if items else "parameter importance (needs a few finished trials)"
    layout = {**LAYOUT, "title": _title(title), "xaxis": {"title": {"text": "importance"}}, "yaxis": {"automargin": True}}
    return {"data": data, "layout": layout}
