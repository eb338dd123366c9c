"""Bad connections and exposed servers, as a user meets them: one-line errors and exit codes, never a traceback.

A real redis-server with a password runs on a free port; every command that talks to Redis is tried against it
with a wrong password, with none, and against a closed port. The dashboard and Flower refuse to listen beyond
loopback without authentication, and the dashboard asks for the credentials it was given.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from orchestrator.cli_processes import warn_on_small_records, warn_without_persistence
from orchestrator.local import free_port, stop_group, wait_for_redis
from orchestrator.settings import Settings

ROOT = Path(__file__).parents[2]
SWEEPQ = str(Path(sys.executable).parent / "sweepq")
PASSWORD = "s3cret-pw"
pytestmark = pytest.mark.e2e


def start_redis(tmp: Path, *extra: str, aof: str = "no") -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", str(tmp), "--save", "", "--appendonly", aof, *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return proc, port


@pytest.fixture(scope="module")
def locked_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    proc, port = start_redis(tmp_path_factory.mktemp("redis"), "--requirepass", PASSWORD)
    wait_for_redis(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    yield port
    stop_group(proc, grace=5)


def sweepq(args: list[str], url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPQ_")}
    return subprocess.run([SWEEPQ, *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False,
                          env={**clean, "SWEEPQ_REDIS_URL": url, **env})


def assert_one_line(out: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert out.returncode == code, (out.returncode, out.stdout[-2000:], out.stderr[-2000:])
    assert "Traceback" not in out.stdout + out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    for word in words:
        assert word in lines[0], lines[0]


COMMANDS = [["status"], ["trials", "s-1"], ["best", "s-1"], ["report", "s-1", "-o", "x.html"], ["decisions", "s-1"],
            ["cancel", "s-1"], ["submit", "spec.yaml"]]


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    spec = {"name": "s", "trial": {"function": "examples.quadratic:main"}, "parameters": {"x": {"uniform": [0, 1]}},
            "limits": {"max_total_runs": 2}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    return tmp_path


@pytest.mark.parametrize("args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_wrong_password_is_one_line_and_exit_3(args: list[str], locked_redis: int, spec_dir: Path) -> None:
    out = sweepq(args, f"redis://:wrong@127.0.0.1:{locked_redis}/0", spec_dir)
    assert_one_line(out, 3, "refused sweepq's credentials", f"127.0.0.1:{locked_redis}")
    assert "wrong" not in out.stderr.replace("WRONGPASS", ""), "the password was printed"


def test_no_password_and_the_password_setting_are_told_apart(locked_redis: int, spec_dir: Path) -> None:
    url = f"redis://127.0.0.1:{locked_redis}/0"
    assert_one_line(sweepq(["status"], url, spec_dir), 3, "refused sweepq's credentials")
    assert sweepq(["status"], url, spec_dir, SWEEPQ_REDIS_PASSWORD=PASSWORD).returncode == 0


@pytest.mark.parametrize("args", COMMANDS[:3], ids=[c[0] for c in COMMANDS[:3]])
def test_an_unreachable_redis_is_one_line_and_exit_3(args: list[str], spec_dir: Path) -> None:
    port = free_port()  # nothing listens there
    assert_one_line(sweepq(args, f"redis://127.0.0.1:{port}/0", spec_dir), 3, "cannot reach Redis", str(port))


@pytest.mark.parametrize("command", [["dashboard", "--host", "0.0.0.0"], ["flower", "--address", "0.0.0.0"],
                                     ["dashboard", "--host", "192.168.1.10"]], ids=["dashboard", "flower", "dashboard-ip"])
def test_dashboard_and_flower_refuse_to_listen_beyond_loopback_without_auth(command: list[str], tmp_path: Path) -> None:
    out = sweepq(command, "redis://127.0.0.1:1/0", tmp_path)
    assert_one_line(out, 2, "without authentication")


def _get(url: str, auth: str | None = None) -> int:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_dashboard_with_auth_asks_for_the_credentials(locked_redis: int, tmp_path: Path) -> None:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPQ_")}
    env = {**clean, "SWEEPQ_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:{locked_redis}/0",
           "SWEEPQ_DASHBOARD_AUTH": "ada:lovelace"}
    proc = subprocess.Popen([SWEEPQ, "dashboard", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        status = None
        while status is None and proc.poll() is None and time.monotonic() < deadline:
            try:
                status = _get(base + "/api/sweeps")
            except OSError:  # not listening yet
                time.sleep(0.2)
        assert status == 401
        assert _get(base + "/api/sweeps", "ada:wrong") == 401
        assert _get(base + "/", "ada:lovelace") == 200
        assert _get(base + "/api/sweeps", "ada:lovelace") == 200
    finally:
        stop_group(proc, grace=5)


def test_a_scheduler_on_redis_without_persistence_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    proc, port = start_redis(tmp_path)
    try:
        wait_for_redis(f"redis://127.0.0.1:{port}/0")
        with caplog.at_level(logging.WARNING):
            assert warn_without_persistence(Settings(redis_url=f"redis://127.0.0.1:{port}/0"))
        assert "a restart loses every sweep" in caplog.text
        proc2, port2 = start_redis(tmp_path / "aof", aof="yes")
        try:
            wait_for_redis(f"redis://127.0.0.1:{port2}/0")
            assert not warn_without_persistence(Settings(redis_url=f"redis://127.0.0.1:{port2}/0"))
        finally:
            stop_group(proc2, grace=5)
    finally:
        stop_group(proc, grace=5)


def test_a_scheduler_on_redis_with_small_hash_values_hints_at_compact_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    proc, port = start_redis(tmp_path)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for_redis(url)
        with caplog.at_level(logging.WARNING):
            assert warn_on_small_records(Settings(redis_url=url))  # Redis's default: 64 bytes
        assert "hash-max-listpack-value 1024" in caplog.text
        redis.Redis.from_url(url).config_set("hash-max-listpack-value", 1024)
        assert not warn_on_small_records(Settings(redis_url=url))
    finally:
        stop_group(proc, grace=5)


def _compose() -> tuple[str, dict[str, Any]]:
    text = (ROOT / "compose.yaml").read_text()
    return text, yaml.safe_load(text)


def test_compose_has_no_placeholder_secrets_and_serves_the_dashboard_behind_auth() -> None:
    text, doc = _compose()
    secrets = [m for m in re.finditer(r"\$\{(\w+)(:?[-?])?[^}]*\}", text) if re.search("PASSWORD|AUTH", m.group(1))]
    assert {m.group(1) for m in secrets} >= {"SWEEPQ_REDIS_PASSWORD", "FLOWER_BASIC_AUTH", "SWEEPQ_DASHBOARD_AUTH"}
    assert all(m.group(2) == ":?" for m in secrets), [m.group(0) for m in secrets if m.group(2) != ":?"]
    services = doc["services"]
    flower, dashboard = services["flower"]["command"], services["dashboard"]["command"]
    assert "--basic-auth" in flower and "0.0.0.0" in flower
    assert dashboard[0] == "dashboard" and "--auth" in dashboard and "0.0.0.0" in dashboard
    assert any(str(p).endswith(":8000") for p in services["dashboard"]["ports"])


def test_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode:
        pytest.skip("docker compose is not installed here (the static check above still runs)")
    env = {k: v for k, v in os.environ.items() if "PASSWORD" not in k and "AUTH" not in k}
    out = subprocess.run([docker, "compose", "-f", str(ROOT / "compose.yaml"), "config"], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=60, check=False)
    assert out.returncode != 0 and "SWEEPQ_REDIS_PASSWORD" in out.stderr, out.stderr
