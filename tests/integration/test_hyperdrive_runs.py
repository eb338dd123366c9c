"""HyperDrive child runs on real Redis and workers: their own ./outputs, everything a script logs, resumed runs."""

from __future__ import annotations

import asyncio
import pickle
import warnings
from pathlib import Path
from typing import Any

import pytest

from orchestrator.dashboard.app import create_dashboard
from orchestrator.dashboard.payload import sweep_payload
from orchestrator.hyperdrive import (
    ActivityFailedException,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    NotInSweepq,
    PrimaryMetricGoal,
    Run,
    ScriptRunConfig,
    Workspace,
    choice,
)
from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration
SCRIPTS = Path(__file__).with_name("hyperdrive_scripts")


def sweep_config(cluster: Cluster, values: list[float], **kw: object) -> HyperDriveConfig:
    src = ScriptRunConfig(source_directory=str(SCRIPTS), script="log_everything.py", compute_target=cluster.queue)
    return HyperDriveConfig(run_config=src, hyperparameter_sampling=GridParameterSampling({"--seed-value": choice(values)}),
                            primary_metric_name="accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                            max_total_runs=len(values), max_concurrent_runs=2, **kw)  # type: ignore[arg-type]


def test_parallel_children_keep_their_own_outputs_and_everything_they_log(cluster: Cluster, tmp_path: Path) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    experiment = Experiment(Workspace(cluster.client), "log-everything")
    parent = experiment.submit(sweep_config(cluster, [0.25, 0.5]))
    parent.wait_for_completion()
    children = parent.get_children()
    assert [c.get_status() for c in children] == ["Completed", "Completed"], [c.get_details() for c in children]
    started = sorted((c._trial()["started"], c._trial()["ended"]) for c in children)
    assert started[1][0] < started[0][1]  # the two ran at the same time
    for child, value in zip(children, [0.25, 0.5], strict=True):
        target = tmp_path / f"{child.number}.pkl"
        child.download_file("outputs/model.pkl", str(target))
        assert pickle.loads(target.read_bytes()) == {"value": value}  # both models kept, each in its own run
    assert not (SCRIPTS / "outputs").exists() and not (SCRIPTS / "chart.png").exists()

    child = children[1]
    metrics = child.get_metrics()
    assert metrics["accuracy"] == pytest.approx([0.5, 0.6, 0.7])
    assert metrics["Kernel type"] == "rbf" and metrics["converged"] is True and metrics["Max iterations:"] == 100
    assert metrics["losses"] == [0.5, 0.25]
    assert metrics["per class"] == {"label": ["a", "b"], "recall": [0.5, 0.75]}
    assert metrics["curve"] == {"x": [1, 2], "y": [0.1, 0.2]}
    assert metrics["loss chart"] == "images/loss_chart.png"
    assert child.get_tags() == {"team": "vision", "candidate": None}
    assert child.get_properties() == {"dataset": "digits-v1"}
    files = child.get_file_names()
    assert {"outputs/model.pkl", "images/loss_chart.png", "uploads/notes.txt", "output.log"} <= set(files)
    assert "log_everything.py" not in files  # the source overlay is not the run's files
    child.download_files(prefix="uploads", output_directory=str(tmp_path / "dl"))
    notes = (tmp_path / "dl" / "uploads" / "notes.txt").read_text()
    assert notes == f"parent={parent.id} id={child.id} experiment={parent.id.rsplit('-', 1)[0]}\n"
    args = child.get_details()["runDefinition"]["arguments"]
    assert args == ["--seed-value", "0.5"]
    best = parent.get_best_run_by_primary_metric()
    assert best is not None and best.id == child.id  # its best accuracy, 0.7, beats 0.45
    assert "Completed" in repr(best) and child.id in repr(best)
    with pytest.raises(NotInSweepq, match="register_model"):
        best.register_model(model_name="m", model_path="outputs/model.pkl")
    assert parent.get_hyperparameters() == {children[0].id: '{"seed-value": 0.25}', child.id: '{"seed-value": 0.5}'}
    assert [r["run_id"] for r in parent.get_children_sorted_by_primary_metric(top=1)] == [child.id]
    assert [c.id for c in parent.get_children(status="Completed")] == [children[0].id, child.id]
    assert [r.id for r in experiment.get_runs()] == [parent.id]
    assert experiment.workspace.get_run(child.id).get_metrics("converged") == {"converged": True}

    # the dashboard's trial view shows the logged images, served from the trial's images/ only
    payload = sweep_payload(cluster.client.sweep(parent.id))
    assert [t["images"] for t in payload["trials"]] == [["images/loss_chart.png"], ["images/loss_chart.png"]]
    app = create_dashboard(cluster.client)
    status, body = asgi_get(app, f"/sweeps/{parent.id}/trials/1/images/loss_chart.png")
    assert status == 200 and body == (Path(child._trial()["output_dir"]) / "images" / "loss_chart.png").read_bytes()
    assert body.startswith(b"\x89PNG")
    assert asgi_get(app, f"/sweeps/{parent.id}/trials/1/images/..")[0] == 404  # nothing outside images/
    assert asgi_get(app, f"/sweeps/{parent.id}/trials/1/images/missing.png")[0] == 404


def asgi_get(app: Any, path: str) -> tuple[int, bytes]:
    """GET through the ASGI app itself (no HTTP client library needed)."""
    sent: list[dict[str, Any]] = []
    requested: list[bool] = []

    async def receive() -> dict[str, Any]:
        if requested:  # the request was read: wait (for a disconnect) until the response is sent and this is cancelled
            await asyncio.Event().wait()
        requested.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw = path.encode()
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
             "raw_path": raw, "root_path": "", "query_string": b"", "headers": [], "server": ("test", 80),
             "client": ("test", 1)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_a_resumed_child_run_reads_its_checkpoint(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    experiment = Experiment(Workspace(cluster.client), "resume")
    first = experiment.submit(sweep_config(cluster, [0.125]))
    first.wait_for_completion()
    old = first.get_children()[0]
    resumed = experiment.submit(sweep_config(cluster, [0.125], resume_child_runs=old))
    resumed.wait_for_completion()
    child = resumed.get_children()[0]
    assert child.get_status() == "Completed", child.get_details()
    metrics = child.get_metrics()
    assert metrics["checkpoint value"] == 0.125
    assert metrics["resumed from"] == str(Path(old._trial()["output_dir"]) / "outputs")
    assert child.get_details()["runDefinition"]["arguments"][-2:] == ["--resume-from", metrics["resumed from"]]


def test_a_sweep_without_a_completed_child_has_no_best_run(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    src = ScriptRunConfig(source_directory=str(SCRIPTS), script="no_such_script.py", compute_target=cluster.queue)
    config = HyperDriveConfig(run_config=src, hyperparameter_sampling=GridParameterSampling({"x": choice(1, 2)}),
                              primary_metric_name="accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                              max_total_runs=2)
    run = Experiment(Workspace(cluster.client), "broken").submit(config)
    run.wait_for_completion(raise_on_error=False)
    assert {c.get_status() for c in run.get_children()} == {"Failed"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run.get_best_run_by_primary_metric() is None
    assert any("no completed child run" in str(w.message) for w in caught)
    single = Experiment(Workspace(cluster.client), "broken").submit(src)
    with pytest.raises(ActivityFailedException, match="failed"):
        single.wait_for_completion()
    assert single.get_status() == "Failed" and "error" in single.get_details()


def test_a_python_function_trial_logs_through_the_same_run_context(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    spec = cluster.spec(trial={"function": "tests.integration.hyperdrive_scripts.fn:train"},
                        parameters={"x": {"choice": [0.5]}}, sampling={"method": "grid"},
                        limits={"max_total_runs": 1, "max_concurrent_runs": 1})
    sweep = cluster.client.submit(spec)
    sweep.wait(timeout=60, progress=False)
    child = Run(Experiment(Workspace(cluster.client), "itest"), f"{sweep.id}/0")
    assert child.get_status() == "Completed", child.get_details()
    assert child.get_metrics() == {"score": [0.5, 1.5], "optimizer": "sgd"}
