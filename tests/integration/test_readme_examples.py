"""The README's Python examples, run as written against real Redis and worker processes, so the docs cannot drift.

The W&B block is run by tests/integration/test_wandb_agent.py; this file runs the others. The only change made to a
block is the Redis URL (the test's server) and, through the environment, the test's key prefix.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import ROOT, Cluster

pytestmark = pytest.mark.integration


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def block_with(first_line: str) -> str:
    found = [b for b in python_blocks() if b.splitlines()[0] == first_line]
    assert len(found) == 1, f"the README has {len(found)} python blocks starting with {first_line!r}"
    return found[0]


def test_every_python_block_of_the_readme_is_run_by_a_test() -> None:
    firsts = sorted(b.splitlines()[0] for b in python_blocks())
    assert firsts == ["from orchestrator import SweepClient", "from workers import report", "import orchestrator.wandb as wandb"]


def test_the_from_python_example_runs_a_sweep_to_its_best_trial(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2, queue="cpu")
    for key in ("SWEEPQ_KEY_PREFIX", "SWEEPQ_ARTIFACT_ROOT"):
        monkeypatch.setenv(key, cluster.env[key])
    monkeypatch.chdir(ROOT)
    code = block_with("from orchestrator import SweepClient").replace("redis://127.0.0.1:6379/0", cluster.settings.redis_url)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    sweep = namespace["sweep"]
    trials = sweep.trials()
    assert sweep.status()["status"] == "completed" and len(trials) == 12  # digits-grid: 3 x 2 x 2 points
    best = sweep.best_trial()
    assert best["value"] == max(t["value"] for t in trials if t["status"] == "completed")
    assert any(s["id"] == sweep.id for s in namespace["client"].sweeps())


def test_the_reporting_example_reports_each_epoch_in_a_sweep_and_prints_alone(
    cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "readme_trial.py"
    module.write_text(block_with("from workers import report"))
    cluster.env["PYTHONPATH"] = f"{tmp_path}:{cluster.env['PYTHONPATH']}"
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(trial={"function": "readme_trial:train"}, metric={"name": "accuracy", "goal": "maximize"},
                        parameters={"learning_rate": {"uniform": [0.1, 0.5]}, "batch_size": {"choice": [32, 64]},
                                    "epochs": {"choice": [3]}}, limits={"max_total_runs": 2, "max_concurrent_runs": 2})
    sweep = cluster.client.submit(spec)
    assert sweep.wait(timeout=60, progress=False)["status"] == "completed"
    for t in sweep.trials():
        reports = sweep.metrics(t["number"])
        assert [r["step"] for r in reports] == [1, 2, 3]
        assert t["value"] == pytest.approx(reports[-1]["values"]["accuracy"])
    sys.path.insert(0, str(tmp_path))
    try:
        import readme_trial  # outside a sweep, report() prints the metric line and the script runs alone

        assert readme_trial.train(0.5, 128, epochs=2) == pytest.approx(0.75)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("readme_trial", None)
    assert "accuracy=0.5" in capsys.readouterr().out
