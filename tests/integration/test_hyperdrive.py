"""The HyperDrive document's PyTorch-style example on real Redis and workers, with only its imports changed."""

from __future__ import annotations

import pytest

from examples.hyperdrive.tune import build_config
from orchestrator.hyperdrive import Experiment, Workspace
from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


def test_the_documents_example_runs_and_finds_the_best_run(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2, queue="cpu")
    cluster.env["SWEEPQ_KEY_PREFIX"] = cluster.prefix
    experiment = Experiment(Workspace(cluster.client), "pytorch-hyperdrive")
    config = build_config(max_total_runs=6, max_concurrent_runs=2, num_epochs=4)
    config.policy.delay_evaluation = 2  # type: ignore[union-attr]  # a short run still exercises Bandit
    run = experiment.submit(config)
    status = run.wait_for_completion(show_output=False)
    assert status["status"] == "completed"
    children = list(run.get_children())
    assert len(children) == 6
    assert all(c.get_status() in ("Completed", "Canceled") for c in children), [c.trial["error"] for c in children]
    metrics = run.get_metrics()
    best_of = {cid: max(m["accuracy"]) if isinstance(m["accuracy"], list) else m["accuracy"] for cid, m in metrics.items()}
    best = run.get_best_run_by_primary_metric()
    assert best is not None and best.id == max(best_of, key=lambda cid: best_of[cid])
    args = best.get_details()["runDefinition"]["Arguments"]
    assert args[0] == "--learning_rate" and 0.0005 <= args[1] <= 0.005 and args[2] == "--momentum"
    assert isinstance(best.get_metrics()["accuracy"], list) and len(best.get_metrics()["accuracy"]) >= 1
