"""The HyperDrive document's PyTorch-style example on real Redis and workers, with only its imports changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from examples.hyperdrive.tune import build_config
from orchestrator.hyperdrive import Experiment, Workspace
from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


def test_the_documents_example_runs_and_finds_the_best_run(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2, queue="cpu")
    experiment = Experiment(Workspace(cluster.client), "pytorch-hyperdrive")
    config = build_config(max_total_runs=4, max_concurrent_runs=2, num_epochs=4)
    config.policy.delay_evaluation = 2  # a short run still exercises Bandit
    run = experiment.submit(config)
    details = run.wait_for_completion(show_output=False)
    assert details["status"] == "Completed" and run.get_status() == "Completed"
    children = run.get_children()
    assert len(children) == 4
    assert all(c.get_status() in ("Completed", "Canceled") for c in children), [c.get_details() for c in children]
    metrics = run.get_metrics()
    best_of = {cid: max(m["accuracy"]) if isinstance(m["accuracy"], list) else m["accuracy"] for cid, m in metrics.items()}
    best = run.get_best_run_by_primary_metric()
    assert best is not None and best.id == max(best_of, key=lambda cid: best_of[cid])  # ties: the first child
    args = best.get_details()["runDefinition"]["arguments"]
    assert args[:4] == ["--num_epochs", "4", "--output_dir", "./outputs"]  # the script's own arguments first
    assert args[4] == "--learning_rate" and 0.0005 <= float(args[5]) <= 0.005 and args[6] == "--momentum"
    assert isinstance(best.get_metrics()["accuracy"], list) and len(best.get_metrics()["accuracy"]) >= 1
    # every child kept its own ./outputs/model.pkl, in its own folder, none in the source directory
    assert all("outputs/model.pkl" in c.get_file_names() for c in children if c.get_status() == "Completed")
    assert not (Path("examples/hyperdrive/outputs")).exists()
