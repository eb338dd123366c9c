"""Redis connections built from settings: credentials and TLS come from the environment, never from code."""

from __future__ import annotations

import logging
import random
import ssl
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from kombu.exceptions import OperationalError
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from orchestrator.settings import Settings

_hiredis_pack: Callable[..., Any] | None
try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # redis-py without hiredis: sweepq's own packer
    _hiredis_pack = None

T = TypeVar("T")
# What a Redis outage looks like to a client: refused or dropped connections, timeouts, and a server that is
# still loading its AOF after a restart (BusyLoadingError is a ConnectionError in redis-py).
TRANSIENT: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError, ConnectionError, TimeoutError)
# What the long-running loops wait out: TRANSIENT, and a broker publish (Celery task, revoke) that kombu gave up on.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (*TRANSIENT, OperationalError)
_CERT_REQS = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}


def effective_url(settings: Settings) -> str:
    """The Redis URL with SWEEPQ_REDIS_USERNAME/PASSWORD applied (they override the URL's own)."""
    url = urllib.parse.urlsplit(settings.redis_url)
    if settings.redis_password is None and settings.redis_username is None:
        return settings.redis_url
    user = settings.redis_username if settings.redis_username is not None else (url.username or "")
    password = settings.redis_password.get_secret_value() if settings.redis_password else (url.password or "")
    auth = urllib.parse.quote(user, safe="")
    if password:
        auth += ":" + urllib.parse.quote(password, safe="")
    host = url.hostname or "127.0.0.1"
    netloc = f"{auth}@{host}" + (f":{url.port}" if url.port else "")
    return urllib.parse.urlunsplit((url.scheme, netloc, url.path, url.query, url.fragment))


def ssl_options(settings: Settings) -> dict[str, Any] | None:
    """TLS options for rediss:// URLs, in the form both redis-py and Celery accept; None for plain TCP."""
    if not settings.redis_url.startswith("rediss://"):
        return None
    options: dict[str, Any] = {"ssl_cert_reqs": _CERT_REQS[(settings.redis_ssl_cert_reqs or "required").lower()]}
    if settings.redis_ssl_ca_certs:
        options["ssl_ca_certs"] = settings.redis_ssl_ca_certs
    return options


def socket_options(settings: Settings, cap: float | None = None) -> dict[str, Any]:
    """Explicit timeouts (some redis-py versions default to none: a dead peer would block a loop forever),
    at most `cap` seconds when given."""
    limit = float("inf") if cap is None else cap
    return {
        "socket_timeout": min(settings.redis_socket_timeout, limit),
        "socket_connect_timeout": min(settings.redis_connect_timeout, limit),
        "socket_keepalive": True,
        "health_check_interval": 30,
    }


def redis_client(settings: Settings, *, timeout_cap: float | None = None, retries: int = 2) -> redis.Redis:
    """A client for the ledger and streams; bytes in and out (values are JSON we decode ourselves).

    redis-py retries a command only briefly (two quick retries): the loops above it ride out longer outages
    with their own backoff, logging once, instead of blocking for tens of seconds inside one call. A worker's
    heartbeat caps its timeouts well below the lease and does not retry, so a connection cut off mid-call still
    lets it stop the trial before the lease ends.
    """
    return redis.Redis.from_url(
        effective_url(settings),
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries),
        **socket_options(settings, timeout_cap),
        **(ssl_options(settings) or {}),
    )


class HeldConnection:
    """Script calls (EVALSHA) on one connection held between calls, for one thread's hot path (a trial's reports,
    a worker's claim and outcome); not thread-safe.

    redis-py's per-command path (pool checkout, packing, response callbacks, retry wrapper) costs more CPU than a
    short script, so a call is packed once (`pack`) and sent as bytes. A script the server lacks (restarted,
    flushed) is loaded once; a connection that broke (an idle one the server dropped) is replaced once at once, and
    a second failure is raised for the caller to ride out.
    """

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._conn: Any = None

    def evalsha(self, sha: str, script: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return self.call(pack("EVALSHA", sha, len(keys), *keys, *args), script)

    def call(self, packed: bytes, script: str, fresh: bool = False) -> Any:
        """Send one packed EVALSHA of `script` and return its reply."""
        try:
            if self._conn is None:
                self._conn = self.client.connection_pool.get_connection()
            # no health check: a dropped connection fails the send, and is replaced below
            self._conn.send_packed_command([packed], check_health=False)
            return self._conn.read_response()
        except redis.exceptions.NoScriptError:
            self.client.script_load(script)
            return self.call(packed, script, fresh)
        except _BROKEN:
            self.close(broken=True)
            if fresh:
                raise
            return self.call(packed, script, fresh=True)

    def close(self, broken: bool = False) -> None:
        """Give the held connection back to the pool (disconnected first if it failed)."""
        if self._conn is not None:
            if broken:
                self._conn.disconnect()
            self.client.connection_pool.release(self._conn)
            self._conn = None


def pack(*args: str | bytes | int) -> bytes:
    """A command in the Redis protocol (hiredis's packer when installed, as redis-py itself uses)."""
    if _hiredis_pack is not None:
        return bytes(_hiredis_pack(args))
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


_BROKEN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class Outage:
    """Logs a Redis outage once when it starts and once when it ends, and paces retries with capped backoff."""

    def __init__(self, log: logging.Logger, what: str, cap: float = 1.0) -> None:
        self.log, self.what, self.cap = log, what, cap
        self.since: float | None = None
        self.failures = 0

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> float:
        """Note a failed call; returns how long to wait before the next try (0.05 s doubling up to the cap)."""
        if self.since is None:
            self.since = time.monotonic()
            self.log.warning("%s: Redis unreachable (%s); retrying until it is back", self.what, exc)
        self.failures += 1
        return self.delay

    @property
    def delay(self) -> float:
        """The pause before the next try: 0.05 s doubling with each failure, up to the cap, with jitter."""
        return float(min(self.cap, 0.05 * 2 ** min(self.failures, 10)) * (0.5 + random.random() / 2))

    def recovered(self) -> bool:
        """Note a successful call; True when it ends an outage (logged with its length)."""
        if self.since is None:
            return False
        self.log.warning("%s: Redis is back after %.1f s", self.what, time.monotonic() - self.since)
        self.since, self.failures = None, 0
        return True


def retry_redis(
    call: Callable[[], T], outage: Outage, until: float, give_up: Callable[[], bool] = lambda: False
) -> T:
    """Call until it succeeds through an outage, up to the monotonic time `until` (then the last error is raised).

    `give_up` ends the wait early (e.g. the trial lost its lease meanwhile). For calls whose repeat is harmless:
    every write sweepq retries is a compare-and-set or idempotent script.
    """
    while True:
        try:
            result = call()
        except TRANSIENT as exc:
            delay = outage.failed(exc)
            if time.monotonic() + delay > until or give_up():
                raise
            time.sleep(delay)
            continue
        outage.recovered()
        return result
