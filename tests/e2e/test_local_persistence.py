"""Local mode keeps its results: after `sweepq run` ends, the viewing commands open the local store by themselves."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.local import free_port, stop_group

ROOT = Path(__file__).parents[2]
SWEEPQ = str(Path(sys.executable).parent / "sweepq")
pytestmark = pytest.mark.e2e


def user_env(tmp_path: Path) -> dict[str, str]:
    """A user's environment with no Redis configured: the trial module importable, artifacts in the temp folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPQ_")}
    env.update(PYTHONPATH=str(ROOT), SWEEPQ_ARTIFACT_ROOT=str(tmp_path / "artifacts"))
    return env


def sweepq(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SWEEPQ, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False)


def store_server_alive(data_dir: Path) -> bool:
    state = json.loads((data_dir / "server.json").read_text())
    return Path(f"/proc/{state['pid']}").exists() and b"redis-server" in Path(f"/proc/{state['pid']}/cmdline").read_bytes()


def test_a_finished_local_sweep_is_still_there_for_status_best_and_report(tmp_path: Path) -> None:
    spec = {
        "name": "kept",
        "trial": {"function": "tests.integration.trials:quick"},
        "parameters": {"x": {"uniform": [0, 1]}},
        "sampling": {"method": "random", "seed": 3},
        "metric": {"name": "score", "goal": "maximize"},
        "limits": {"max_total_runs": 4, "max_concurrent_runs": 2},
        "resources": {"queue": "local-persist"},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    env = user_env(tmp_path)
    ran = sweepq(["run", "spec.yaml", "--no-progress", "--workers", "2"], tmp_path, env, timeout=180)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    sweep_id = re.search(r"sweep (\S+) on ", ran.stderr)
    assert sweep_id, ran.stderr
    best_value = re.search(r"best trial #\d+: score = (\S+)", ran.stdout)
    assert best_value, ran.stdout
    data_dir = tmp_path / ".sweepq"
    assert (data_dir / "appendonlydir").is_dir()
    time.sleep(0.3)
    assert not store_server_alive(data_dir), "the store's server outlived `sweepq run`"

    status = sweepq(["status"], tmp_path, env)
    assert status.returncode == 0, status.stderr
    assert sweep_id.group(1) in status.stdout and "completed" in status.stdout

    best = sweepq(["best", sweep_id.group(1), "--json"], tmp_path, env)
    assert best.returncode == 0, best.stderr
    assert json.loads(best.stdout)["value"] == pytest.approx(float(best_value.group(1)))

    report = sweepq(["report", sweep_id.group(1), "-o", "x.html"], tmp_path, env)
    assert report.returncode == 0, report.stderr
    assert sweep_id.group(1) in (tmp_path / "x.html").read_text()
    time.sleep(0.3)
    assert not store_server_alive(data_dir), "a viewing command left the store's server running"

    port = free_port()
    dashboard = subprocess.Popen([SWEEPQ, "dashboard", "--port", str(port)], cwd=tmp_path, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        listed = wait_for_json(f"http://127.0.0.1:{port}/api/sweeps", dashboard)
        assert sweep_id.group(1) in [s["id"] for s in listed]
        assert store_server_alive(data_dir), "the dashboard serves without its store"
    finally:
        stop_group(dashboard, grace=10)
    time.sleep(0.3)
    assert not store_server_alive(data_dir), "the stopped dashboard left the store's server running"


def wait_for_json(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "the dashboard did not come up"
            time.sleep(0.2)


def test_without_a_local_store_the_viewing_commands_do_not_create_one(tmp_path: Path) -> None:
    env = {**user_env(tmp_path), "SWEEPQ_REDIS_URL": "redis://127.0.0.1:6379/0", "SWEEPQ_KEY_PREFIX": "nostore"}
    status = sweepq(["status"], tmp_path, env)
    assert status.returncode == 0, status.stderr
    assert not (tmp_path / ".sweepq").exists()


HOLD = """
import sys, time
from orchestrator.local import ensure_local_redis
print(ensure_local_redis(".sweepq"), flush=True)
sys.stdin.readline()  # hold the store until the test says so
"""


def test_ensure_local_redis_is_shared_and_stops_with_its_last_holder(tmp_path: Path) -> None:
    """The README's Python use: ensure_local_redis(".sweepq") gives the URL; release_local_redis(".sweepq") lets go."""
    import redis

    from orchestrator.local import ensure_local_redis, release_local_redis

    env = user_env(tmp_path)
    other = subprocess.Popen([sys.executable, "-c", HOLD], cwd=tmp_path, env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdin is not None
        url = other.stdout.readline().strip()
        redis.Redis.from_url(url).set("kept", "yes")
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            assert ensure_local_redis(".sweepq") == url  # the running server is shared, not started twice
            release_local_redis(".sweepq")
        finally:
            os.chdir(cwd)
        assert store_server_alive(tmp_path / ".sweepq"), "released while another process still holds it"
        other.stdin.write("\n")
        other.stdin.flush()
        assert other.wait(timeout=30) == 0
        time.sleep(0.3)
        assert not store_server_alive(tmp_path / ".sweepq"), "the last holder's exit left the server running"
    finally:
        if other.poll() is None:
            other.kill()
    again = ensure_local_redis(tmp_path / ".sweepq")  # started afresh from the folder: the data is still there
    try:
        assert redis.Redis.from_url(again).get("kept") == b"yes"
    finally:
        release_local_redis(tmp_path / ".sweepq")
