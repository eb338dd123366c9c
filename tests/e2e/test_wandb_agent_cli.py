"""`sweepq agent` as a user runs it: W&B's `wandb agent --count` for a config file, a sweep id and a function."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import Cluster

pytestmark = pytest.mark.e2e
SWEEPQ = [sys.executable, "-m", "orchestrator.cli"]


def sweepq(cluster: Cluster, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SWEEPQ, *args], env=cluster.env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_agent_count_bounds_a_wandb_config_without_run_cap(cluster: Cluster, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(textwrap.dedent('''
        import wandb
        run = wandb.init()
        for step in range(3):
            wandb.log({"score": wandb.config.lr * (step + 1)})
    '''))
    config = {"program": "train.py", "method": "random", "metric": {"name": "score", "goal": "maximize"},
              "parameters": {"lr": {"min": 0.1, "max": 1.0}}}  # no run_cap: W&B's sweep runs until stopped
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(config))
    done = sweepq(cluster, "agent", "sweep.yaml", "--count", "3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sweep_id = done.stdout.split()[0]
    assert f"agent: 3 trial(s) of {sweep_id}: 3 completed" in done.stderr
    trials = cluster.client.sweep(sweep_id).trials()
    assert sorted(t["status"] for t in trials if t["status"] != "queued") == ["completed"] * 3
    again = sweepq(cluster, "agent", sweep_id, "--count", "1", cwd=tmp_path)  # a later agent goes on with the sweep
    assert again.returncode == 0, again.stderr
    assert [t["status"] for t in cluster.client.sweep(sweep_id).trials()].count("completed") == 4


def test_agent_function_runs_a_wandb_function_from_a_module(cluster: Cluster, tmp_path: Path) -> None:
    (tmp_path / "mytrain.py").write_text(textwrap.dedent('''
        import orchestrator.wandb as wandb

        def train():
            with wandb.init() as run:
                wandb.log({"loss": (wandb.config.x - 3) ** 2})
    '''))
    config = {"method": "grid", "metric": {"name": "loss", "goal": "minimize"}, "parameters": {"x": {"values": [1, 3]}}}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(config))
    refused = sweepq(cluster, "agent", "sweep.yaml", "--count", "1", cwd=tmp_path)  # no program, no function
    assert refused.returncode == 2 and "program" in refused.stderr and cluster.client.sweeps() == []
    first = sweepq(cluster, "agent", "sweep.yaml", "--function", "mytrain:train", "--count", "1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    sweep_id = first.stdout.split()[0]
    no_function = sweepq(cluster, "agent", sweep_id, cwd=tmp_path)
    assert no_function.returncode == 1 and "has no program" in no_function.stderr
    done = sweepq(cluster, "agent", sweep_id, "--function", "mytrain:train", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sweep = cluster.client.sweep(sweep_id)
    assert {t["params"]["x"]: t["value"] for t in sweep.trials()} == {1: 4.0, 3: 0.0}
    assert sweep.status()["status"] == "completed"
    best = sweepq(cluster, "best", sweep_id, "--json", cwd=tmp_path)
    assert '"x": 3' in best.stdout


def test_agent_refuses_a_sweep_served_by_workers(cluster: Cluster, tmp_path: Path) -> None:
    sweep = cluster.client.submit(cluster.spec())
    done = sweepq(cluster, "agent", sweep.id, cwd=tmp_path)
    assert done.returncode == 1
    assert f"queue {cluster.queue!r}, served by workers" in done.stderr.replace("\n", "")


def test_agent_function_trial_is_failed_at_its_time_limit(cluster: Cluster, tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(textwrap.dedent('''
        import time
        import orchestrator.wandb as wandb

        def train():
            wandb.init()
            while True:
                time.sleep(0.05)
    '''))
    spec = {"name": "slow", "trial": {"function": "slow:train"}, "parameters": {"x": {"choice": [1]}},
            "sampling": {"method": "grid"}, "metric": {"name": "loss", "goal": "minimize"},
            "limits": {"trial_timeout_minutes": 0.05}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    done = sweepq(cluster, "agent", "spec.yaml", "--function", "slow:train", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    trial = cluster.client.sweep(done.stdout.split()[0]).trials()[0]
    assert trial["status"] == "failed" and trial["error"] == "timed out after 0.05 minutes"


def test_agent_runs_a_native_python_trial_sweep_with_its_time_limit(cluster: Cluster, tmp_path: Path) -> None:
    (tmp_path / "native.py").write_text(textwrap.dedent('''
        import time
        from workers import report

        def train(x):
            if x == 2:
                while True:
                    time.sleep(0.05)
            report(loss=x)
            return x * 10
    '''))
    spec = {"name": "native", "trial": {"function": "native:train"}, "parameters": {"x": {"choice": [1, 2]}},
            "sampling": {"method": "grid"}, "metric": {"name": "loss", "goal": "minimize"},
            "limits": {"trial_timeout_minutes": 0.05, "max_concurrent_runs": 1}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    env = {**cluster.env, "PYTHONPATH": f"{tmp_path}:{cluster.env['PYTHONPATH']}"}
    done = subprocess.run([*SWEEPQ, "agent", "spec.yaml"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    trials = {t["params"]["x"]: t for t in cluster.client.sweep(done.stdout.split()[0]).trials()}
    assert (trials[1]["status"], trials[1]["value"]) == ("completed", 10.0)
    assert (trials[2]["status"], trials[2]["error"]) == ("failed", "timed out after 0.05 minutes")
