"""The dashboard's lineage section and feasible column on a real Redis: a population sweep's ledger as the scheduler
writes it (members with their lineage, reports in the stream and in compacted curves) read by the live view."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.dashboard.live import LiveSweeps
from orchestrator.dashboard.payload import sweep_payload
from orchestrator.store.codec import dumps
from orchestrator.store.streams import compact_element
from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


def member(n: int, status: str, lr: float, best: float | None, lineage: dict[str, Any] | None = None) -> dict[str, Any]:
    record = {"number": n, "status": status, "params": {"lr": lr, "m": 0.5}, "attempt": 1, "value": None, "best": best}
    return record | ({"lineage": lineage} if lineage else {})


def exploit(parent: int, replaces: int, step: int, before: float, after: float) -> dict[str, Any]:
    return {"parent": parent, "replaces": replaces, "interval": 2, "step": step, "parent_reports": step,
            "params_before": {"lr": before, "m": 0.5}, "params_after": {"lr": after, "m": 0.5},
            "parent_params": {"lr": before, "m": 0.5}, "time": 0.0}


def test_the_live_view_shows_a_population_s_lineage_and_the_best_member_s_schedule(cluster: Cluster) -> None:
    spec = cluster.spec(parameters={"lr": {"uniform": [0, 1]}, "m": {"uniform": [0, 1]}},
                        population={"policy": "pbt", "size": 2, "perturbation_interval": 2})
    sweep = cluster.client.submit(spec)
    ledger, keys = cluster.client.ledger, cluster.client.ledger.keys
    def fields(n: int, step: int) -> dict[Any, Any]:
        return {"trial": str(n), "attempt": "1", "step": str(step), "values": dumps({"score": step / 10}), "t": "0",
                "seq": str(step)}

    def report(n: int, step: int) -> None:
        ledger.r.xadd(keys.metrics(sweep.id), fields(n, step))

    ledger.create_trials(sweep.id, [member(0, "completed", 0.1, 0.9), member(1, "stopped", 0.2, 0.4),
                                    member(2, "running", 0.12, 0.5, exploit(0, 1, 4, 0.2, 0.12))], 3)
    ledger.r.rpush(keys.curve(sweep.id, 0), *(compact_element(f"1-{s}", fields(0, s)) for s in range(1, 10)))
    for n, steps in ((1, range(1, 5)), (2, range(4, 7))):
        for step in steps:
            report(n, step)
    view = LiveSweeps(cluster.client).get(sweep.id)
    first = view.poll()["lineage"]
    assert first["best"] == 0 and [e["trial"] for e in first["schedule"]] == [0]  # #2 is still running
    ledger.update_trial(sweep.id, 2, {"status": "completed", "value": 0.95, "best": 0.95})
    for step in (7, 8, 9):
        report(2, step)
    second = view.poll(view.version)["lineage"]
    best = sweep.best_trial()
    assert best is not None and second["best"] == best["number"] == 2
    assert second["schedule"] == best["schedule"]  # the page's schedule is best_trial()'s
    assert [e["from_step"] for e in second["schedule"]] == [1, 4]
    chart = second["schedule_chart"]["data"][0]
    assert chart["x"] == [1, 4, 9] and chart["y"] == [0.1, 0.12, 0.12]  # to #2's last step, read incrementally
    rows = view.trials(0, 10, "number", False)["rows"]
    assert [r["lineage"] for r in rows] == [None, None, "from #0 @ step 4, replaces #1"]
    assert sweep_payload(sweep)["lineage"]["schedule"] == best["schedule"]  # the offline report's too


def test_the_trials_table_marks_infeasible_trials_of_a_constrained_sweep(cluster: Cluster) -> None:
    sweep = cluster.client.submit(cluster.spec(constraints=[{"metric": "latency", "max": 5}]))
    ledger = cluster.client.ledger

    def trial(n: int, latency: float) -> dict[str, Any]:
        return {"number": n, "status": "completed", "params": {"x": n / 10}, "attempt": 1, "value": 0.5 + n / 10,
                "best": 0.5 + n / 10, "final_metrics": {"score": 0.5 + n / 10, "latency": latency}}

    ledger.create_trials(sweep.id, [trial(0, 3.0), trial(1, 9.0)], 2)
    view = LiveSweeps(cluster.client).get(sweep.id)
    page = view.poll()
    assert page["constrained"] is True and page["best"]["number"] == 0  # #1 scores higher but breaks the bound
    assert [r["feasible"] for r in view.trials(0, 10, "number", False)["rows"]] == [True, False]
