"""A W&B sweep config and an unchanged W&B training script, run by real workers through the wandb drop-in."""

from __future__ import annotations

import math

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


CHECK_ARGS = (
    "import sys\n"
    "args = dict(a[2:].split('=', 1) for a in sys.argv[1:])\n"
    "assert set(args) == {'opt.lr', 'batch-size'}, args\n"
    "assert float(args['opt.lr']) in (0.0, 0.5) and int(args['batch-size']) in (1, 2), args\n"
)


def test_a_wandb_grid_without_metric_runs_dotted_and_hyphenated_names_on_the_command_line(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2, queue="cpu")
    doc = {
        "method": "grid",
        "command": ["${env}", "${interpreter}", "-c", CHECK_ARGS, "${args}"],
        "parameters": {
            "opt.lr": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.5},  # W&B's grid: 0.0 and 0.5, not 1.0
            "batch-size": {"min": 1, "max": 2},
        },
    }
    spec = load_spec(doc)
    assert spec.metric is None and spec.total_runs == 4
    sweep = cluster.client.submit(spec)
    final = sweep.wait(timeout=90, progress=False)
    trials = sweep.trials()
    assert final["status"] == "completed"
    assert [t["status"] for t in trials] == ["completed"] * 4, [t["error"] for t in trials]
    assert sorted((t["params"]["opt.lr"], t["params"]["batch-size"]) for t in trials) == [
        (0.0, 1), (0.0, 2), (0.5, 1), (0.5, 2)]


NAN_ARGS = (
    "import sys\n"
    "assert len(sys.argv) == 2 and sys.argv[1] in ('--x=nan', '--x=1.5'), sys.argv\n"
)


def test_a_wandb_grid_value_of_nan_runs_once_and_the_trial_gets_nan(cluster: Cluster) -> None:
    """W&B's grid counts NaN as one value equal to itself; the trial runs with it (stored exactly, not as a string)."""
    cluster.scheduler()
    cluster.worker(concurrency=2, queue="cpu")
    doc = {
        "method": "grid",
        "command": ["${env}", "${interpreter}", "-c", NAN_ARGS, "${args}"],
        "parameters": {"x": {"values": [float("nan"), 1.5, float("nan")]}},
    }
    sweep = cluster.client.submit(load_spec(doc))
    final = sweep.wait(timeout=90, progress=False)
    trials = sweep.trials()
    assert final["status"] == "completed", final
    assert [t["status"] for t in trials] == ["completed", "completed"], [t["error"] for t in trials]
    xs = [t["params"]["x"] for t in trials]
    assert isinstance(xs[0], float) and math.isnan(xs[0]) and xs[1] == 1.5
