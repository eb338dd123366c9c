"""A private redis-server for fault tests: its own port and data folder, so it can be killed and restarted
without touching the shared server the other tests use."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """One redis-server process; `kill()` is a SIGKILL, `start()` brings it back on the same port and folder."""

    def __init__(self, folder: Path, *, appendonly: bool = True, bind: str = "127.0.0.1", port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not on PATH")
        self.binary, self.folder, self.appendonly, self.bind = binary, folder, appendonly, bind
        self.port = port or free_port(bind.split()[0])
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://{self.bind.split()[0]}:{self.port}/0"

    def start(self, timeout: float = 20.0) -> None:
        argv = [
            self.binary, "--port", str(self.port), "--bind", *self.bind.split(), "--dir", str(self.folder),
            "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "everysec", "--save", "",
            "--maxmemory-policy", "noeviction", "--protected-mode", "no",
        ]
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if client.ping():
                    return
            except redis.RedisError:  # refused while starting, LOADING while it replays the AOF
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final save; what survives is what the AOF already had."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)
