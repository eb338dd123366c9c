"""The trial task: take the trial's lease, run it with the right runner, record how it ended.

The message carries only the sweep id, trial number and attempt (parameters too, for Flower): the worker reads
the spec and the parameters from the ledger, so a message written by someone else cannot choose what runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from celery import Celery, signals

from orchestrator.settings import Settings
from orchestrator.spec import CommandTrial, SweepSpec
from orchestrator.store.codec import metric_json
from orchestrator.store.connection import TRANSIENT, HeldConnection, Outage, redis_client, retry_redis
from orchestrator.store.keys import Keys
from orchestrator.store.ledger import Ledger
from workers.app import TRIAL_TASK, gpu_slots
from workers.reporting import LEASE_MARGIN, LOST_REASON, Reporter, interrupt
from workers.runners import RUNNERS, Outcome, Runner, TrialContext
from workers.runners.reaper import kill_descendants, kill_stale_group

log = logging.getLogger("sweepq.worker")
_outage = Outage(log, "worker")
DROP_REASONS = {-1: "trial is not queued (finished, canceled or already running)", -2: "stale attempt", -3: "owned"}


@dataclass
class WorkerState:
    """Per-process connections (rebuilt after fork) and a cache of parsed specs."""

    settings: Settings
    pid: int = field(default_factory=os.getpid)
    client: redis.Redis = field(init=False)
    ledger: Ledger = field(init=False)
    hot: Ledger = field(init=False)  # a trial's claim and outcome, on a held connection (run_trial's thread only)
    specs: dict[str, SweepSpec] = field(default_factory=dict)
    heartbeat: Heartbeat | None = None
    artifacts: Path = field(init=False)

    def __post_init__(self) -> None:
        self.client = redis_client(self.settings)
        self.ledger = Ledger(self.client, Keys(self.settings.key_prefix))
        self.hot = Ledger(self.client, self.ledger.keys, held=HeldConnection(self.client))
        self.artifacts = Path(self.settings.artifact_root).resolve()

    def spec(self, sweep_id: str) -> SweepSpec | None:
        if sweep_id not in self.specs:
            doc = self.ledger.sweep(sweep_id)
            if doc is None:
                return None
            self.specs[sweep_id] = SweepSpec.model_validate(doc["spec"])
        return self.specs[sweep_id]


_state: WorkerState | None = None


def state(settings: Settings) -> WorkerState:
    global _state
    if _state is None or _state.pid != os.getpid():
        _state = WorkerState(settings)
    return _state


class Heartbeat(threading.Thread):
    """Renews the running trial's lease and watches its stop flag (also when the trial never reports).

    One thread per pool process, started with its first trial, so a short trial costs no thread start.
    """

    def __init__(self, w: WorkerState) -> None:
        super().__init__(daemon=True, name="sweepq-heartbeat")
        self.w = w
        self.current: tuple[TrialContext, str] | None = None

    def run(self) -> None:
        s, outage = self.w.settings, Outage(log, "heartbeat")
        # its own client: short timeouts, no retries, so a cut-off connection never outlasts the lease
        ledger = Ledger(redis_client(s, timeout_cap=s.lease_seconds * LEASE_MARGIN / 2, retries=0), self.w.ledger.keys)
        while True:  # through an outage it retries every second at most, so it renews as soon as Redis is back
            time.sleep(min(s.heartbeat_seconds, outage.delay) if outage.down else s.heartbeat_seconds)
            watched = self.current
            if watched is None:
                continue
            ctx, _owner = watched
            reason = ctx.reporter.heartbeat(ledger, outage)  # a lost or unrenewable lease stops the trial
            if reason is not None:
                ctx.request_stop(reason)
            if reason == LOST_REASON:
                interrupt(ctx.reporter)  # a Python trial that computes without reporting stops now too


def run_trial(
    settings: Settings, task_id: str, node: str | None, sweep: str, trial: int, attempt: int, runner: Runner | None = None,
    queue: str | None = None,
) -> dict[str, Any]:
    """Run one attempt of one trial, or drop the message when the trial is not this attempt's to run.

    `runner` replaces the spec's runner (an agent runs a function defined in its own process this way); `queue` is
    the queue the message came from: one that is not the sweep's (a forged or misrouted message) is dropped."""
    w = state(settings)
    spec = retry_redis(lambda: w.spec(sweep), _outage, time.monotonic() + settings.lease_seconds)
    if spec is None:
        return {"dropped": f"unknown sweep {sweep}"}
    if queue is not None and queue != spec.resources.effective_queue:
        log.warning("dropping %s #%s: delivered on queue %r, the sweep's queue is %r", sweep, trial, queue,
                    spec.resources.effective_queue)
        return {"dropped": f"wrong queue {queue!r}"}
    host = node or socket.gethostname()
    owner = f"{host}/{os.getpid()}/{task_id}"
    gpu = os.environ.get("CUDA_VISIBLE_DEVICES") if gpu_slots() else None
    running = {
        "status": "running", "started": time.time(), "worker": host, "pid": os.getpid(), "task_id": task_id, "gpu": gpu
    }
    output_dir = w.artifacts / sweep / f"trial-{trial}"
    running["output_dir"] = str(output_dir)
    if attempt > 1:
        _end_earlier_attempt(w, sweep, trial, host)
    claimed = retry_redis(  # idempotent for this owner: a claim whose reply was lost is returned again
        lambda: w.hot.claim(sweep, trial, attempt, owner, settings.lease_seconds, running),
        _outage, time.monotonic() + settings.lease_seconds,
    )
    if isinstance(claimed, int):
        log.info("dropping %s #%s attempt %s: %s", sweep, trial, attempt, DROP_REASONS.get(claimed, claimed))
        return {"dropped": DROP_REASONS.get(claimed, str(claimed))}
    params, resume_from = claimed
    ctx = _context(w, spec, sweep, trial, attempt, params, output_dir)
    ctx.resume_from = resume_from
    ctx.reporter.own(owner)
    if w.heartbeat is None:
        w.heartbeat = Heartbeat(w)
        w.heartbeat.start()
    w.heartbeat.current = (ctx, owner)
    try:
        outcome = (runner or RUNNERS["command" if isinstance(spec.trial, CommandTrial) else "python"])(ctx)
    finally:
        w.heartbeat.current = None
        ctx.reporter.close()
        kill_descendants(grace=min(settings.stop_grace_seconds, 2.0))  # nothing the trial started outlives it
    _finish(w, ctx, outcome)
    return {"status": outcome.status, "value": outcome.value}


def _end_earlier_attempt(w: WorkerState, sweep: str, trial: int, host: str) -> None:
    """Before a retry: an earlier attempt's command still running on this host is killed, so none runs beside it.

    Its group's guard dies with its worker (a parent-death signal); this covers a pid the kernel could not tell.
    """
    try:
        record = w.ledger.trial(sweep, trial) or {}
    except redis.RedisError:  # best effort: the guard's parent-death signal is the main defence
        return
    pgid = record.get("pgid")
    if isinstance(pgid, int) and record.get("worker") == host:
        kill_stale_group(pgid, f"{sweep}/{trial}")


def _context(
    w: WorkerState, spec: SweepSpec, sweep: str, number: int, attempt: int, params: dict[str, Any], output_dir: Path
) -> TrialContext:
    s = w.settings
    m = spec.metric
    reporter = Reporter(
        w.client, w.ledger.keys, sweep, number, attempt,
        m.name if m else None, m.goal if m else "maximize", m.extra if m else (),
        lease_s=s.lease_seconds,
    )
    output_dir.mkdir(parents=True, exist_ok=True)  # persistent: checkpoints, the log, ${args_json_file}
    return TrialContext(
        sweep_id=sweep, number=number, attempt=attempt, spec=spec, params=params, reporter=reporter,
        output_dir=output_dir, stop_grace_seconds=s.stop_grace_seconds, log_tail_lines=s.log_tail_lines,
        record=lambda fields: _record(w, sweep, number, attempt, fields),
    )


def _record(w: WorkerState, sweep: str, number: int, attempt: int, fields: Mapping[str, Any]) -> None:
    """A runner's write to its trial record (pgid, argv, log), fenced: only while this attempt is the running one."""
    w.ledger.transition(sweep, number, ["running"], fields, attempt=attempt, notify=False)


def _finish(w: WorkerState, ctx: TrialContext, outcome: Outcome) -> None:
    """Record the outcome, only if this attempt still owns the trial (a reaped attempt's result is moot)."""
    best = ctx.reporter.best
    value = outcome.value
    if value is not None and value == value and ctx.reporter.history == [] and best is None:
        best = value  # a trial that only returned its metric: that value is its best
    fields: dict[str, Any] = {
        "status": outcome.status,
        "ended": time.time(),
        "value": None if value is None else metric_json(value),
        "best": best,
        "final_metrics": {k: metric_json(v) for k, v in {**ctx.reporter.last_values, **outcome.metrics}.items()},
        "reports": len(ctx.reporter.history),
        "error": outcome.error,
        "exit_code": outcome.exit_code,
        "log_tail": outcome.log_tail,
    }
    # the error: a failed sweep quotes it; final_metrics: other objectives and constraints, which samplers learn
    tell = ("status", "ended", "value", "best", "reports", "error", "final_metrics")
    if outcome.status == LOST_REASON or ctx.reporter.lost:  # it lost its lease: the scheduler retries or fails it
        with contextlib.suppress(*TRANSIENT):
            w.ledger.release(w.ledger.keys.lease(ctx.sweep_id, ctx.number), ctx.reporter.owner)
        return
    def write() -> bool:  # reports an outage may have taken are re-sent first (see reporting.REPLAY_SECONDS)
        try:
            ctx.reporter.replay()
            return w.hot.transition(
                ctx.sweep_id, ctx.number, ["running"], fields, attempt=ctx.attempt, drop_lease=True, tell=tell
            )
        except TRANSIENT:
            ctx.reporter.suspect_outage()
            raise

    try:  # through a short outage (up to a lease): the write is a compare-and-set on this attempt
        done = retry_redis(write, _outage, time.monotonic() + w.settings.lease_seconds)
    except TRANSIENT as exc:
        log.error("%s #%s attempt %s: outcome not recorded, Redis unreachable (%s)", ctx.sweep_id, ctx.number,
                  ctx.attempt, exc)
        return
    if not done:
        log.warning("%s #%s attempt %s ended after it was reaped; not recorded", ctx.sweep_id, ctx.number, ctx.attempt)


def on_revoked(settings: Settings, request: Any) -> None:
    """In the worker's main process: a revoked trial ends as its stop reason (or canceled); its group is killed."""
    kwargs = getattr(request, "kwargs", None) or {}
    sweep, number, attempt = kwargs.get("sweep"), kwargs.get("trial"), kwargs.get("attempt", 1)
    if sweep is None or number is None:
        return
    w = state(settings)
    record = w.ledger.trial(sweep, number) or {}
    pgid = record.get("pgid")
    if record.get("status") == "running" and record.get("attempt") == attempt and isinstance(pgid, int):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    reason = w.ledger.stop_reason(sweep, number) or "canceled"
    error = "revoked (terminated)" if record.get("status") == "running" else "revoked before it started"
    fields = {"status": reason, "ended": time.time(), "error": error}
    w.ledger.transition(sweep, number, ["running", "queued"], fields, attempt=attempt, drop_lease=True)


def cancel_revoked_running(settings: Settings, handled: set[str]) -> None:
    """In the worker's main process: a running trial revoked without terminate (Flower's Revoke button) is asked
    to stop as `canceled`, so it ends at its next report or heartbeat and frees its slot."""
    from celery.worker import state as worker_state

    for request in list(worker_state.active_requests):
        if request.task.name != TRIAL_TASK or request.id in handled or request.id not in worker_state.revoked:
            continue
        handled.add(request.id)
        kwargs = request.kwargs or {}
        sweep, number, attempt = kwargs.get("sweep"), kwargs.get("trial"), kwargs.get("attempt", 1)
        if sweep is None or number is None:
            continue
        w = state(settings)
        fields = {"stop_reason": "canceled", "stop_requested_at": time.time()}
        if w.ledger.transition(sweep, number, ["running"], fields, attempt=attempt):
            w.ledger.request_stop(sweep, [number], "canceled")
            log.info("%s #%s revoked while running: asked to stop", sweep, number)


def summary(result: Mapping[str, Any]) -> str:
    """The task's return value, one line for Flower's result column and Celery's log (the ledger holds the outcome;
    a string because Celery formats every return value with its safe repr, which costs more for a dict)."""
    if "dropped" in result:
        return f"dropped: {result['dropped']}"
    return f"{result['status']} {result['value']}"


def register(app: Celery, settings: Settings) -> None:
    """Register sweepq.trial on the app and the revoke handler for it."""

    @app.task(name=TRIAL_TASK, bind=True, ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
    def trial_task(self: Any, sweep: str, trial: int, attempt: int = 1, params: Any = None, name: str = "") -> Any:
        """params and name: older messages carried them for Flower (which shows kwargsrepr); the worker reads
        both from the ledger."""
        queue = (self.request.delivery_info or {}).get("routing_key")  # the queue it came from (direct routing)
        return summary(run_trial(settings, self.request.id, self.request.hostname, sweep, trial, attempt, queue=queue))

    @signals.task_revoked.connect(weak=False, dispatch_uid=f"sweepq-revoked-{id(app)}")  # type: ignore[untyped-decorator]
    def _revoked(sender: Any = None, request: Any = None, **_: Any) -> None:
        if getattr(sender, "name", None) == trial_task.name:
            on_revoked(settings, request)
