"""A W&B sweep config and an unchanged W&B training script, run by real workers through the wandb drop-in."""

from __future__ import annotations

import pytest
import yaml

from orchestrator.loading import load_spec
from tests.integration.conftest import ROOT, Cluster

pytestmark = pytest.mark.integration


def test_a_wandb_config_runs_its_script_and_wandb_log_reports(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2, queue="cpu")
    doc = yaml.safe_load((ROOT / "configs/wandb/quadratic-bayes.yaml").read_text())
    doc["run_cap"] = 4
    doc["program"] = str(ROOT / "examples/wandb_train.py")
    del doc["early_terminate"]
    sweep = cluster.client.submit(load_spec(doc))
    final = sweep.wait(timeout=90, progress=False)
    trials = sweep.trials()
    assert final["status"] == "completed"
    assert [t["status"] for t in trials] == ["completed"] * 4, [t["error"] for t in trials]
    for t in trials:
        p = t["params"]
        base = (p["x"] - 1) ** 2 + (p["y"] + 2) ** 2 + 0.1 * p["layers"]  # the script's loss from wandb.config
        speed = (1.5 if p["optimizer.kind"] == "adam" else 1.0) * p["optimizer.lr"] * 100
        reports = sweep.metrics(t["number"])
        assert [r["step"] for r in reports] == [1, 2, 3, 4, 5, 6]  # wandb.init(config=...) default, epoch as step
        assert reports[-1]["values"]["loss"] == pytest.approx(base / (1 + speed * 6))
        assert t["value"] == pytest.approx(base / (1 + speed * 6))
