"""HTML for the dashboard and the static report, from Jinja2 templates with autoescaping."""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("orchestrator.dashboard", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    )


def plotly_js_path() -> Path:
    """plotly.min.js from the installed plotly package (never a CDN)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def script_js() -> str:
    return resources.files("orchestrator.dashboard").joinpath("static/sweepq.js").read_text()


def finite(value: Any) -> Any:
    """The value with NaN and infinities replaced by None, so that it is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if all(type(v) in _PLAIN for v in value) and not any(type(v) is float and not math.isfinite(v) for v in value):
            return list(value)  # a chart's column of plain values: nothing to replace (the common, long case)
        return [finite(v) for v in value]
    return value


_PLAIN = (int, float, str, bool, type(None))


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element: no '<', '>' or '&' can end it or open a tag."""
    text = json.dumps(finite(value), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def sweep_page(payload: dict[str, Any], *, live: bool, root: str = "/", allow_cancel: bool = False) -> str:
    """The live sweep page (scripts served by the dashboard)."""
    sweep_id = payload["status"]["id"]
    return environment().get_template("sweep.html").render(
        name=payload["status"]["name"], subtitle=f"sweep {sweep_id}", root=root, live=live,
        plotly_src=root + "static/plotly.min.js", script_src=root + "static/sweepq.js",
        api=f"{root}api/sweeps/{sweep_id}", allow_cancel=allow_cancel, payload_json=script_json(payload),
    )


def report_page(payload: dict[str, Any]) -> str:
    """One self-contained HTML file: plotly.js, the page script and the data inline; works offline."""
    sweep_id = payload["status"]["id"]
    return environment().get_template("sweep.html").render(
        name=payload["status"]["name"], subtitle=f"report of sweep {sweep_id}", root="#", live=False,
        plotly_inline=plotly_js_path().read_text(encoding="utf-8"), script_inline=script_js(),
        api="", allow_cancel=False, payload_json=script_json(payload),
    )


def index_page(where: str, root: str = "/") -> str:
    return environment().get_template("index.html").render(root=root, where=where, script_src=root + "static/sweepq.js")
