"""The dashboard's pure parts: chart figures from plain trial data, and JSON that is safe inside <script>."""

from __future__ import annotations

import json
import math

from orchestrator.dashboard import figures
from orchestrator.dashboard.render import finite, script_json

TRIALS = [
    {"number": 0, "status": "completed", "params": {"lr": 0.1, "opt": "adam"}, "value": 0.8, "best": 0.9},
    {"number": 1, "status": "stopped", "params": {"lr": 0.01, "opt": "<b>sgd</b>"}, "value": 0.5, "best": 0.6},
    {"number": 2, "status": "failed", "params": {"lr": 0.5, "opt": "adam"}, "value": None, "best": None},
]
REPORTS = [
    {"trial": 0, "attempt": 1, "step": 1, "values": {"acc": 0.5}},
    {"trial": 0, "attempt": 1, "step": 2, "values": {"acc": 0.9, "loss": 0.1}},
    {"trial": 1, "attempt": 1, "step": 1, "values": {"acc": 0.6}},
    {"trial": 1, "attempt": 1, "step": 2, "values": {"loss": 0.3}},
]


def test_metric_value_is_the_best_of_best_report_and_final_value() -> None:
    assert figures.metric_value(TRIALS[0], "maximize") == 0.9
    assert figures.metric_value(TRIALS[0], "minimize") == 0.8
    assert figures.metric_value({"best": "nan", "value": math.inf}, "maximize") is None


def test_metrics_chart_has_one_line_per_reporting_trial_with_stopped_ones_dashed() -> None:
    fig = figures.metrics_chart(REPORTS, TRIALS, "acc")
    assert [(d["name"], d["y"], d["line"]["dash"]) for d in fig["data"] if d["name"].startswith("#")] == [
        ("#0", [0.5, 0.9], "solid"), ("#1", [0.6], "dash"),
    ]
    stopped = [d for d in fig["data"] if d["name"] == "stopped here"]
    assert [(d["x"], d["y"], d["text"]) for d in stopped] == [([1], [0.6], ["#1"])]  # where #1 was stopped


def test_parallel_coordinates_code_categories_and_end_with_the_metric() -> None:
    fig = figures.parallel_coordinates(TRIALS, "acc", "maximize")
    dims = fig["data"][0]["dimensions"]
    assert [d["label"] for d in dims] == ["lr", "opt", "acc"]
    assert dims[1]["ticktext"] == ["<b>sgd</b>", "adam"] and dims[1]["values"] == [1, 0]  # plain text there
    assert dims[2]["values"] == [0.9, 0.6]


def test_scatter_axes_escape_labels_where_plotly_reads_markup() -> None:
    fig = figures.scatter_2d(TRIALS, "acc", "maximize", ["lr", "opt"])
    assert fig["layout"]["yaxis"]["ticktext"] == ["&lt;b&gt;sgd&lt;/b&gt;", "adam"]
    assert fig["data"][0]["marker"]["color"] == [0.9, 0.6]


def test_scatter_fills_missing_axes_with_the_metric() -> None:
    one_param = [{**t, "params": {"lr": t["params"]["lr"]}} for t in TRIALS]
    assert figures.scatter_2d(one_param, "acc", "maximize", ["lr"])["layout"]["yaxis"]["title"]["text"] == "acc"
    fig = figures.scatter_3d(TRIALS, "acc", "maximize", ["lr", "opt"])
    assert fig["layout"]["scene"]["zaxis"]["title"]["text"] == "acc" and fig["data"][0]["z"] == [0.9, 0.6]


def test_default_axes_prefer_the_most_important_parameters() -> None:
    assert figures.default_axes(TRIALS, 2, ["opt"]) == ["opt", "lr"]
    assert figures.default_axes(TRIALS, 3) == ["lr", "opt"]


def test_script_json_cannot_close_the_script_element_and_is_strict() -> None:
    text = script_json({"name": "</script><script>alert(1)</script>", "v": math.nan, "w": [math.inf, 1.5]})
    assert "<" not in text and ">" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>", "v": None, "w": [None, 1.5]}
    assert finite({"a": (1.0, -math.inf)}) == {"a": [1.0, None]}
