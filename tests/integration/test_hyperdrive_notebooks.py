"""Azure's HyperDrive notebooks, ported with only imports and data loading changed, run start to finish on real
Redis and workers; the best run is the one HyperDrive's client picks (restated here as an oracle)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from examples.hyperdrive import pytorch_notebook, sklearn_notebook, tf_warm_start_notebook
from orchestrator.hyperdrive import HyperDriveRun, Run, Workspace
from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


def hyperdrive_client_pick(parent: HyperDriveRun, name: str, maximize: bool) -> str | None:
    """azureml-train-core's HyperDriveRun._get_best_run_id_by_primary_metric with its defaults (failed and canceled
    children included): children by their best logged value (max or min of the list), stable sort, first one."""
    scored = []
    for child in parent.get_children():
        logged = child.get_metrics(name).get(name)
        if logged is not None:
            scored.append((child.id, (max if maximize else min)(logged) if isinstance(logged, list) else logged))
    ordered = sorted(scored, key=lambda item: item[1], reverse=maximize)
    return ordered[0][0] if ordered else None


def test_the_sklearn_notebook_runs_start_to_finish(cluster: Cluster, tmp_path: Path) -> None:
    cluster.scheduler()
    cluster.worker(2, "hd-cluster")
    out: dict[str, Any] = sklearn_notebook.notebook(Workspace(cluster.client), str(tmp_path), max_total_runs=4,
                                                     max_concurrent_runs=2)
    single: Run = out["run"]
    assert single.get_status() == "Completed" and single.get_children() == []
    metrics = single.get_metrics()
    assert metrics["Kernel type"] == "linear" and metrics["Penalty"] == 1.0 and 0.9 <= metrics["Accuracy"] <= 1
    assert single.get_details()["runDefinition"]["arguments"] == ["--kernel", "linear", "--penalty", "1.0"]
    assert "outputs/model.joblib" in single.get_file_names()

    parent: HyperDriveRun = out["hyperdrive_run"]
    best: Run = out["best_run"]
    assert best.id == hyperdrive_client_pick(parent, "Accuracy", maximize=True)
    args = best.get_details()["runDefinition"]["arguments"]
    assert args[:4] == ["--kernel", "linear", "--penalty", "1.0"] and args[4] == "--kernel" and args[6] == "--penalty"
    assert best.get_metrics()["Kernel type"] == args[5]  # argparse takes the sampled value, logged as a string
    assert (tmp_path / "model.joblib").stat().st_size > 0
    assert len(parent.get_children()) == 4


def test_the_tensorflow_warm_start_notebook_runs_start_to_finish(cluster: Cluster, tmp_path: Path) -> None:
    cluster.env["N_EPOCHS"] = "6"
    cluster.scheduler()
    cluster.worker(2, "gpu-cluster")
    out: dict[str, Any] = tf_warm_start_notebook.notebook(Workspace(cluster.client), str(tmp_path), runs=(4, 3, 2),
                                                          concurrent=2)
    assert out["run"].get_status() == "Completed"
    htr: HyperDriveRun = out["htr"]
    assert out["best_run"].id == hyperdrive_client_pick(htr, "validation_acc", maximize=True)
    assert (tmp_path / "tf-dnn-mnist" / "outputs" / "model" / "model.pkl").is_file()
    warm: HyperDriveRun = out["warm_start_htr"]
    assert warm.get_details()["properties"]["resume_from"] == f'["{htr.id}"]'
    picks = [p for p in (hyperdrive_client_pick(warm, "validation_acc", True), out["best_run"].id) if p]
    values = {p: max(Run(warm.experiment, p).get_metrics("validation_acc")["validation_acc"]) for p in picks}
    assert out["best_warm_start_run"].id == max(picks, key=lambda p: values[p])  # inherited runs compete too
    resumed = out["resume_child_runs_htr"].get_children()
    assert out["resume_child_runs_htr"].get_status() == "Completed" and len(resumed) == 2
    if out["resumed"]:  # a child the truncation policy canceled: resumed from its checkpoints in ./outputs
        old: Run = out["resumed"][0]
        assert resumed[0].get_details()["runDefinition"]["arguments"][-1] == f"{old._trial()['output_dir']}/outputs"
        assert "Resuming from epoch" in (Path(resumed[0]._trial()["output_dir"]) / "output.log").read_text()


def test_the_pytorch_notebook_runs_start_to_finish(cluster: Cluster, tmp_path: Path) -> None:
    cluster.scheduler()
    cluster.worker(2, "gpu-cluster")
    out: dict[str, Any] = pytorch_notebook.notebook(Workspace(cluster.client), str(tmp_path), max_total_runs=3,
                                                     max_concurrent_runs=2)
    single: Run = out["run"]
    assert single.get_status() == "Completed" and len(single.get_metrics()["best_val_acc"]) == 30
    parent: HyperDriveRun = out["hyperdrive_run"]
    best: Run = out["best_run"]
    assert best.id == hyperdrive_client_pick(parent, "best_val_acc", maximize=True)
    metrics = out["best_run_metrics"]
    args = best.get_details()["runDefinition"]["arguments"]
    assert metrics["lr"] == float(args[args.index("--learning_rate") + 1])
    assert metrics["momentum"] == float(args[args.index("--momentum") + 1])
    assert (tmp_path / "model.pt").stat().st_size > 0
