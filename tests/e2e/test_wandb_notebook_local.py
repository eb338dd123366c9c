"""The notebook flow with no Redis configured: it uses the local store, where the CLI finds the sweep afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.local import ensure_local_redis, release_local_redis

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.e2e


def test_a_notebook_sweep_lands_in_the_local_store_and_the_cli_sees_it(tmp_path: Path) -> None:
    data_dir = tmp_path / ".sweepq"
    ensure_local_redis(data_dir)  # a local store exists (as after `sweepq run`), its server stopped
    release_local_redis(data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPQ_")}
    env.update(PYTHONPATH=str(ROOT), SWEEPQ_ARTIFACT_ROOT=str(tmp_path / "artifacts"))
    done = subprocess.run([sys.executable, str(ROOT / "examples/wandb_notebook.py"), "2"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    sweep_id = done.stdout.split()[-1]
    trials = subprocess.run([str(Path(sys.executable).parent / "sweepq"), "trials", sweep_id, "--format", "json"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert trials.returncode == 0, trials.stderr
    assert [t["status"] for t in json.loads(trials.stdout)].count("completed") == 2
    time.sleep(0.3)
    state = json.loads((data_dir / "server.json").read_text())
    assert not Path(f"/proc/{state['pid']}").exists(), "the store's server outlived the notebook and the CLI"
