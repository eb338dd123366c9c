"""Downsampling: what the charts of a big sweep draw (the best exactly, the rest spread, every stop point)."""

from __future__ import annotations

import random
from typing import Any

from orchestrator.dashboard import downsample, figures


def sweep(n: int, seed: int = 0) -> tuple[list[dict[str, Any]], dict[int, list[float]]]:
    rng = random.Random(seed)
    trials, series = [], {}
    for i in range(n):
        curve = [rng.random() for _ in range(rng.randint(1, 30))]
        status = "stopped" if i % 3 == 0 else "completed"
        trials.append({"number": i, "status": status, "params": {"lr": rng.random(), "opt": rng.choice("ab")},
                       "value": curve[-1], "best": max(curve)})
        series[i] = curve
    return trials, series


def test_spread_keeps_first_and_last_and_everything_when_it_fits() -> None:
    assert downsample.spread(list(range(10)), 20) == list(range(10))
    picked = downsample.spread(list(range(1001)), 11)
    assert picked == list(range(0, 1001, 100))
    assert downsample.thin_indices(100, 5)[0] == 0 and downsample.thin_indices(100, 5)[-1] == 99


def test_pick_ranked_keeps_the_best_then_spreads_the_rest() -> None:
    ranked = list(range(10_000))  # best first
    picked = downsample.pick_ranked(ranked, 100, 20)
    assert len(picked) == 100 and picked[:20] == list(range(20)) and picked[-1] == 9_999


def test_the_metric_chart_of_a_big_sweep_draws_the_best_curves_whole_and_every_stop_point() -> None:
    trials, series = sweep(3_003)  # 1,001 stopped
    fig = figures.curves_chart(series, trials, "acc", "maximize")
    lines = [d for d in fig["data"] if d["name"].startswith("#")]
    assert len(lines) == downsample.MAX_CURVES
    ranked = sorted(trials, key=lambda t: -figures.metric_value(t, "maximize"))  # type: ignore[operator]
    drawn = {d["name"]: d for d in lines}
    for t in ranked[: downsample.BEST_CURVES]:  # the best curves, exactly
        assert drawn[f"#{t['number']}"]["y"] == series[t["number"]]
    budget = downsample.curve_budget(len(lines))
    assert all(len(d["y"]) <= max(budget, len(series[int(d["name"][1:])])) for d in lines)
    assert sum(len(d["y"]) for d in lines if d["name"] not in {f"#{t['number']}" for t in ranked[:20]}) <= 2 * downsample.MAX_POINTS
    stops = next(d for d in fig["data"] if d["name"] == "stopped here")
    expected = [(len(series[t["number"]]), series[t["number"]][-1]) for t in trials if t["status"] == "stopped"]
    assert list(zip(stops["x"], stops["y"], strict=True)) == expected
    assert stops["type"] == "scattergl" and "200 of 3,003" in fig["layout"]["title"]["text"]


def test_a_small_sweep_is_drawn_whole_as_svg() -> None:
    trials, series = sweep(30)
    fig = figures.curves_chart(series, trials, "acc", "maximize")
    assert {d["name"]: d["y"] for d in fig["data"] if d["name"].startswith("#")} == {f"#{n}": ys for n, ys in series.items()}
    assert figures.scatter_2d(trials, "acc", "maximize", ["lr", "opt"])["data"][0]["type"] == "scatter"
    assert "drawn" not in fig["layout"]["title"]["text"]


def test_big_scatters_are_webgl_and_keep_the_best_trials() -> None:
    trials, _ = sweep(5_000)
    fig = figures.scatter_2d(trials, "acc", "minimize", ["lr", "opt"])
    trace = fig["data"][0]
    assert trace["type"] == "scattergl" and len(trace["x"]) == downsample.MAX_POINTS
    lowest = sorted(trials, key=lambda t: (figures.metric_value(t, "minimize"), t["number"]))[: downsample.KEEP_BEST]
    assert {f"#{t['number']}" for t in lowest} <= set(trace["text"])
    assert "2,000 of 5,000" in fig["layout"]["title"]["text"]
    dims = figures.parallel_coordinates(trials, "acc", "minimize")["data"][0]["dimensions"]
    assert all(len(d["values"]) == downsample.MAX_POINTS for d in dims)
    assert len(figures.scatter_3d(trials, "acc", "minimize", ["lr"])["data"][0]["x"]) == downsample.MAX_POINTS
