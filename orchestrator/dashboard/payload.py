"""Everything a sweep page shows, as one JSON-able document (read from the ledger through the client)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from orchestrator.dashboard import figures
from orchestrator.export import importances
from orchestrator.ranking import Ranking

if TYPE_CHECKING:
    from orchestrator.client import Sweep

CHARTS = ("metrics", "parallel", "scatter2d", "scatter3d", "importance")


def sweep_payload(sweep: Sweep, axes2: Sequence[str] = (), axes3: Sequence[str] = ()) -> dict[str, Any]:
    """Status, trials, decisions, best trial and the five charts of one sweep."""
    status = sweep.status()
    spec = sweep.spec
    ranking = Ranking.of(spec.metric)
    metric = "no metric" if spec.metric is None else spec.metric.name  # a sweep without a metric has no best trial
    goal = "maximize" if ranking is None else ranking.goal
    trials = sweep.trials()
    reports = sweep.metrics()
    weights = importances(spec, trials)
    preferred = [name for name, _ in sorted(weights.items(), key=lambda kv: -kv[1])]
    axes2 = list(axes2) or figures.default_axes(trials, 2, preferred)
    axes3 = list(axes3) or figures.default_axes(trials, 3, preferred)
    best = sweep.best_trial()
    images = _images(sweep) if getattr(spec.trial, "per_trial_workdir", False) else {}
    return {
        "status": status,
        "elapsed": _elapsed(status),
        "metric": metric,
        "goal": goal,
        "has_metric": ranking is not None,
        "policy": spec.early_termination.policy,
        "params": figures.param_names(trials),
        "axes2": axes2,
        "axes3": axes3,
        "trials": [{**_row(t), "images": images.get(t["number"], [])} for t in trials],
        "decisions": sweep.decisions(),
        "best": None if best is None or ranking is None else {"number": best["number"], "value": ranking.score(best),
                                                              "params": best["params"]},
        "charts": {
            "metrics": figures.metrics_chart(reports, trials, metric),
            "parallel": figures.parallel_coordinates(trials, metric, goal),
            "scatter2d": figures.scatter_2d(trials, metric, goal, axes2),
            "scatter3d": figures.scatter_3d(trials, metric, goal, axes3),
            "importance": figures.importance_chart(weights),
        },
    }


def _images(sweep: Sweep) -> dict[int, list[str]]:
    """The images each trial of a HyperDrive-style sweep logged (`Run.log_image`), by trial number."""
    out: dict[int, list[str]] = {}
    for record in sweep.client.ledger.trials(sweep.id):
        logged = record.get("logged")
        images = logged.get("images") if isinstance(logged, dict) else None
        out[record["number"]] = [p for paths in (images or {}).values() for p in paths]
    return out


def _elapsed(status: dict[str, Any]) -> float:
    started = status.get("started") or status.get("created") or time.time()
    return float((status.get("ended") or time.time()) - started)


def _row(t: dict[str, Any]) -> dict[str, Any]:
    keys = ("number", "status", "value", "best", "reports", "attempt", "started", "ended", "worker", "gpu", "error")
    row = {k: t.get(k) for k in keys}
    row["params"] = t.get("params") or {}
    row["seconds"] = t["ended"] - t["started"] if t.get("ended") and t.get("started") else None
    return row
