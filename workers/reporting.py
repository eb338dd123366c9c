"""report(): how a trial sends intermediate metrics, and learns that it must stop.

Each call is one pipelined round trip to Redis (DESIGN §6): the stream entry, the trial's last/best values in
the ledger, the lease extension and the stop-flag read. Outside a sweepq trial, report() prints the metric
line instead, so a training script also runs on its own.

Every write is fenced by the attempt: once the trial was reaped (its retry may already run), a report changes
nothing and report() raises TrialStopped("lost"). Through a Redis outage report() waits and retries, up to the
point where the lease it could not renew would end; then the trial stops as lost rather than run beside a retry.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import redis

from orchestrator.store.codec import metric_json
from orchestrator.store.connection import TRANSIENT, Outage, retry_redis
from orchestrator.store.keys import Keys
from orchestrator.store.ledger import Ledger
from orchestrator.store.streams import LOST, Report, ReportWriter

log = logging.getLogger("sweepq.worker")
LOST_REASON = "lost"  # a trial that no longer owns its lease stops with this reason; its outcome is not recorded
LEASE_MARGIN = 0.2  # a worker that could not renew stops its trial when this fraction of the lease is left

# Redis with `appendfsync everysec` may lose writes it acknowledged shortly before it died (up to about 2 s when an
# fsync lags). After any outage, an attempt re-sends the reports it delivered this long before the outage began;
# each is idempotent by its sequence number, so one that survived changes nothing.
REPLAY_SECONDS = 5.0
RECENT_REPORTS = 256  # at most this many recent deliveries are kept for such a replay

STEP_NAMES = ("step", "epoch", "iteration")  # a report's step comes from the first of these it carries


class TrialStopped(BaseException):
    """Raised by report() when the trial was asked to stop (early termination or cancel); no need to catch it."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"trial asked to stop: {reason}")
        self.reason = reason


@dataclass
class Reporter:
    """Sends one trial's reports and keeps its primary-metric history (for the final and best values)."""

    client: redis.Redis
    keys: Keys
    sweep_id: str
    number: int
    attempt: int
    metric: str | None  # None: the sweep has no metric (reports are recorded, nothing is ranked)
    goal: str
    extra: tuple[str, ...] = ()
    lease_s: float = 30.0
    owner: str = ""  # the lease owner this attempt claimed with
    history: list[float] = field(default_factory=list)
    best: float | None = None
    last_values: dict[str, float] = field(default_factory=dict)  # every metric's last reported value
    lost: str | None = None  # why this attempt no longer owns the trial (then nothing it writes lands)
    interrupted: bool = False  # the heartbeat interrupted the trial function (see interrupt())
    renewed_at: float = field(default_factory=time.monotonic)  # last time Redis confirmed the lease
    _seq: int = 0
    _recent: deque[tuple[float, bytes]] = field(default_factory=lambda: deque(maxlen=RECENT_REPORTS))  # packed
    _outage_since: float | None = None  # monotonic time of the first failed call of an outage not yet replayed
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _writer: ReportWriter | None = None
    _outage: Outage | None = None

    def __post_init__(self) -> None:
        self._writer = ReportWriter(
            self.client, self.keys, self.sweep_id, lease_s=self.lease_s, owner=self.owner
        )
        self._outage = Outage(log, f"trial {self.sweep_id} #{self.number}")

    def own(self, owner: str) -> None:
        """Fence this attempt's writes by the lease owner it claimed with (reports re-take only their own lease)."""
        assert self._writer is not None
        self.owner = self._writer.owner = owner
        self.renewed_at = time.monotonic()

    @property
    def lease_deadline(self) -> float:
        """The monotonic time by which this attempt must stop unless Redis confirms its lease again."""
        return self.renewed_at + self.lease_s * (1 - LEASE_MARGIN)

    def lose(self, reason: str) -> None:
        if self.lost is None:
            self.lost = reason
            log.warning("trial %s #%s attempt %s stops: %s", self.sweep_id, self.number, self.attempt, reason)

    def known(self, name: str) -> bool:
        return name == self.metric or name in self.extra

    def send(self, values: Mapping[str, float], step: int | None = None) -> str | None:
        """Record one report; returns the stop reason when the trial was asked to stop."""
        with self._lock:
            self.last_values.update(values)
            fields: dict[str, Any] = {"reports": len(self.history)}
            if self.metric is not None and self.metric in values:
                value = float(values[self.metric])
                self.history.append(value)
                if not math.isnan(value) and (self.best is None or self._better(value, self.best)):
                    self.best = value
                fields = {"reports": len(self.history), "last": metric_json(value)}
                if self.best is not None:
                    fields["best"] = self.best
            step = step if step is not None else max(len(self.history), 1)
            assert self._writer is not None
            self._seq += 1
            packed = self._writer.pack(Report("", self.number, self.attempt, step, dict(values), time.time()), fields,
                                       self._seq)
            return self._deliver(packed)

    def _deliver(self, packed: bytes) -> str | None:
        """Write one packed report, through an outage if need be (the same bytes each try, so it lands once)."""
        writer, outage = self._writer, self._outage
        assert writer is not None and outage is not None
        if self.lost is not None:
            return LOST_REASON
        try:
            if self._outage_since is None:
                try:  # the usual case: one round trip, none of the outage machinery
                    code, stop = writer.send(packed)
                except TRANSIENT:
                    self.suspect_outage()
                    code, stop = self._resend(writer, outage, packed)
            else:
                code, stop = self._resend(writer, outage, packed)
        except TRANSIENT as exc:
            self.lose(f"Redis unreachable until the lease ran out ({exc})")
            return LOST_REASON
        if code == LOST:
            self.lose("the trial was reaped or retried: this attempt no longer owns it")
            return LOST_REASON
        self.renewed_at = time.monotonic()
        self._recent.append((self.renewed_at, packed))
        return stop

    def _resend(self, writer: ReportWriter, outage: Outage, packed: bytes) -> tuple[int, str | None]:
        """Through an outage, until the lease would run out: the recent reports again, then this one."""
        def deliver() -> tuple[int, str | None]:
            try:
                self._replay_after_outage(writer)
                return writer.send(packed)
            except TRANSIENT:
                self.suspect_outage()
                raise

        return retry_redis(deliver, outage, self.lease_deadline, lambda: self.lost is not None)

    def suspect_outage(self) -> None:
        """A call to Redis failed: reports acknowledged just before may be gone if Redis restarted."""
        if self._outage_since is None:
            self._outage_since = time.monotonic()

    def _replay_after_outage(self, writer: ReportWriter) -> None:
        """Re-send, in order, the reports delivered shortly before the outage began (idempotent by seq)."""
        since = self._outage_since
        if since is None:
            return
        for delivered, packed in list(self._recent):
            if delivered >= since - REPLAY_SECONDS:
                writer.send(packed)
        self._outage_since = None

    def replay(self) -> None:
        """After an outage that no later report noticed (e.g. the heartbeat did), re-send the recent reports now."""
        with self._lock:
            if self._outage_since is not None and self._writer is not None and self.lost is None:
                self._replay_after_outage(self._writer)

    def heartbeat(self, ledger: Ledger, outage: Outage) -> str | None:
        """Renew the lease and read the stop flag; returns why the trial must stop (stop flag or lost lease)."""
        if self.lost is not None:
            return LOST_REASON
        try:
            owned = ledger.renew(self.sweep_id, self.number, self.owner, self.lease_s, attempt=self.attempt)
            reason = ledger.stop_reason(self.sweep_id, self.number)
        except TRANSIENT as exc:
            outage.failed(exc)
            self.suspect_outage()
            if time.monotonic() >= self.lease_deadline:
                self.lose(f"Redis unreachable until the lease ran out ({exc})")
                return LOST_REASON
            return None
        outage.recovered()
        if not owned:
            self.lose("lease lost: the trial was reaped or retried")
            return LOST_REASON
        self.renewed_at = time.monotonic()
        if self._outage_since is not None:
            with contextlib.suppress(*TRANSIENT):  # the next heartbeat or report tries again
                self.replay()
        return reason

    def close(self) -> None:
        """Release the reporting connection (the trial ended)."""
        with self._lock:
            if self._writer is not None:
                self._writer.close()

    def _better(self, a: float, b: float) -> bool:
        return a > b if self.goal == "maximize" else a < b

    @property
    def last(self) -> float | None:
        return self.history[-1] if self.history else None


_current: Reporter | None = None


def activate(reporter: Reporter | None) -> None:
    """Make `reporter` the one report() uses in this process (the runner sets it around a trial)."""
    global _current
    _current = reporter


def interrupt(reporter: Reporter) -> bool:
    """Stop a Python trial that lost its lease even while it computes without reporting (called by the heartbeat).

    Raises the prefork pool's soft-time-limit exception in the pool process's main thread, where the trial runs
    (it interrupts a sleep too); only in a prefork pool process, only while this reporter's trial function runs,
    and once. The outcome of a lost attempt is never recorded, so the exception's message does not matter.
    """
    if reporter.interrupted or _current is not reporter:
        return False
    main = threading.main_thread()
    if threading.current_thread() is main or main.ident is None:
        return False
    if getattr(signal.getsignal(signal.SIGUSR1), "__name__", "") != "soft_timeout_sighandler":  # billiard's
        return False
    reporter.interrupted = True
    signal.pthread_kill(main.ident, signal.SIGUSR1)
    return True


def split_step(values: Mapping[str, Any]) -> tuple[dict[str, float], int | None]:
    """Separate the step (step/epoch/iteration) from the metric values, checking every value is a number."""
    metrics: dict[str, float] = {}
    step: int | None = None
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"report({name}=...) needs a number, got {type(value).__name__}")
        if name in STEP_NAMES and step is None:
            step = int(value)
        elif name not in STEP_NAMES:
            metrics[name] = float(value)
    return metrics, step


def report(**values: Any) -> None:
    """Report metrics of the current trial, e.g. report(accuracy=0.91, step=3); step defaults to the count.

    Raises TrialStopped when the sweep asked the trial to stop; let it propagate (the trial ends `stopped`).
    """
    metrics, step = split_step(values)
    reporter = _current
    if reporter is None:
        print(" ".join(f"{k}={v}" for k, v in values.items()), flush=True)
        return
    stop = reporter.send(metrics, step)
    if stop is not None:
        raise TrialStopped(stop)
