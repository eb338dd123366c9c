"""Real components for integration tests: the redis-server CI started, and real `sweepq` processes.

Each test gets its own key prefix and queue, so tests sharing one Redis never see each other's sweeps or trials.
Processes run in their own sessions and are killed by group at teardown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from orchestrator.client import SweepClient
from orchestrator.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SWEEPQ = [sys.executable, "-m", "orchestrator.cli"]


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("SWEEPQ_REDIS_URL", "redis://127.0.0.1:6379/0")
    redis.Redis.from_url(url, socket_timeout=2).ping()  # fails loudly: integration tests need a real server
    return url


class Cluster:
    """Starts schedulers and workers for one test's prefix and talks to its ledger."""

    def __init__(self, redis_url: str, tmp: Path) -> None:
        tag = uuid.uuid4().hex[:8]
        self.prefix = f"t{tag}"
        self.queue = f"q{tag}"
        self.tmp = tmp
        self.env = {
            **os.environ,
            "SWEEPQ_REDIS_URL": redis_url,
            "SWEEPQ_KEY_PREFIX": self.prefix,
            "SWEEPQ_LEASE_SECONDS": "3",
            "SWEEPQ_HEARTBEAT_SECONDS": "0.5",
            "SWEEPQ_STOP_GRACE_SECONDS": "2",
            "SWEEPQ_SCHEDULER_LOCK_SECONDS": "3",
            "SWEEPQ_SCHEDULER_POLL_SECONDS": "0.05",
            "SWEEPQ_ARTIFACT_ROOT": str(tmp / "artifacts"),
            "PYTHONPATH": str(ROOT),
        }
        self.settings = Settings(
            redis_url=redis_url, key_prefix=self.prefix, lease_seconds=3, stop_grace_seconds=2, artifact_root=tmp / "artifacts"
        )
        self.client = SweepClient(settings=self.settings)
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, *args: str, log: str) -> subprocess.Popen[bytes]:
        out = open(self.tmp / log, "ab")  # noqa: SIM115
        proc = subprocess.Popen([*SWEEPQ, *args], env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        out.close()
        self.procs.append(proc)
        return proc

    def scheduler(self) -> subprocess.Popen[bytes]:
        return self.spawn("scheduler", log=f"scheduler-{len(self.procs)}.log")

    def worker(self, concurrency: int = 2, queue: str | None = None, *extra: str) -> subprocess.Popen[bytes]:
        name = f"w{len(self.procs)}-{self.prefix}@%h"
        return self.spawn("worker", "--queues", queue or self.queue, "--concurrency", str(concurrency), "--name", name,
                          "--loglevel", "WARNING", *extra, log=f"worker-{len(self.procs)}.log")

    def spec(self, **overrides: Any) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "name": "itest",
            "trial": {"function": "tests.integration.trials:sleepy"},
            "parameters": {"x": {"uniform": [0, 1]}},
            "sampling": {"method": "random", "seed": 7},
            "metric": {"name": "score", "goal": "maximize"},
            "limits": {"max_total_runs": 6, "max_concurrent_runs": 2},
            "resources": {"queue": self.queue},
        }
        spec.update(overrides)
        return spec

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.tmp.glob("*.log")))

    def close(self) -> None:
        for proc in self.procs:
            kill_group(proc)


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def cluster(redis_url: str, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(redis_url, tmp_path)
    yield c
    c.close()


@pytest.fixture(autouse=True)
def _show_logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    cluster = getattr(request.node, "funcargs", {}).get("cluster")
    if report is not None and report.failed and cluster is not None:
        print(cluster.logs())


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
