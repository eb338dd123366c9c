"""The README's first quick-start command, run as a user runs it: a real sweep in local mode, then nothing left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SWEEPQ = str(Path(sys.executable).parent / "sweepq")
pytestmark = pytest.mark.e2e


def quickstart_args() -> list[str]:
    """The arguments after `sweepq` in the README's quick-start command (so the test follows the README)."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"sweepq (run [^\s`&|;]+(?: [^\s`&|;]+)*)", readme)
    assert match, "the README's quick start has no `sweepq run` command"
    return match.group(1).split()


def sweepq_processes() -> set[int]:
    """Pids of every running redis-server or sweepq scheduler/worker process on this machine."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "redis-server" in cmd or "orchestrator.cli scheduler" in cmd or "orchestrator.cli worker" in cmd:
            found.add(int(entry.name))
    return found


def test_quickstart_run_prints_the_best_trial_and_leaves_nothing_behind(tmp_path: Path) -> None:
    before = sweepq_processes()
    env = {**os.environ, "SWEEPQ_ARTIFACT_ROOT": str(tmp_path)}
    out = subprocess.run([SWEEPQ, *quickstart_args(), "--no-progress"], capture_output=True, text=True, cwd=ROOT,
                         timeout=240, env=env, check=False)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert re.search(r"best trial #\d+: accuracy = 0\.9\d*", out.stdout), out.stdout[-2000:]
    assert "completed" in out.stdout
    time.sleep(0.5)
    assert sweepq_processes() - before == set()


def test_ctrl_c_cancels_and_cleans_up(tmp_path: Path) -> None:
    before = sweepq_processes()
    env = {**os.environ, "SWEEPQ_ARTIFACT_ROOT": str(tmp_path)}
    proc = subprocess.Popen([SWEEPQ, "run", "configs/digits-bayesian.yaml", "--no-progress"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(sweepq_processes() - before) < 3:
        time.sleep(0.2)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err
    time.sleep(0.5)
    assert sweepq_processes() - before == set()
