"""Agents: a sweep's trials run in the calling process (W&B's `wandb.agent` and `wandb agent --count`).

Decision: an agent is a worker made of the existing parts, not a second engine. A sweep created for agents
(`wandb.sweep`, or `sweepq agent CONFIG`) sends its trial tasks to a queue of its own, `agent-<random>`, which no
regular worker listens to. The scheduler creates trial records and sends Celery tasks there as for any sweep; the
agent takes one message at a time from that queue (kombu's `basic_get` on the Celery app's connection: an atomic
pop, so two agents never get the same message) and runs it through `workers.tasks.run_trial`, the workers' own
lease, claim, heartbeat and outcome code, with a runner that calls the function in this process. A re-sent or
duplicated message is dropped by the claim as for a worker, so no trial runs twice. Why: trials stay ledger
records with leases, retries, early termination and reports exactly as for workers, and the function, defined in a
notebook or a script, never has to be importable elsewhere.

Somebody must run the scheduler and the policy evaluator: the agent runs both in threads while it works; each
only leads when no other one holds its lock (a `sweepq scheduler` elsewhere, or another agent), and stands by
otherwise. Without a configured Redis URL, sweeps and agents use local mode's persistent store (./.sweepq, a
real redis-server shared by every process that uses the folder) when it exists or when no Redis answers on the
default URL, so `sweepq trials` and a second agent find the sweep a notebook created.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import redis

from orchestrator.settings import Settings
from orchestrator.space import nest
from orchestrator.spec import CommandTrial, PythonTrial, SweepSpec
from workers.reporting import STEP_NAMES, TrialStopped
from workers.runners.base import Outcome, Runner, TrialContext
from workers.wandb_shim.wandb._core import Binding, Session
from workers.wandb_shim.wandb._values import as_number

log = logging.getLogger("sweepq.agent")
QUEUE_PREFIX = "agent-"
ENDED = ("completed", "canceled", "failed")
NO_PROGRAM = "sweepq: this sweep has no program"
NO_PROGRAM_COMMAND = (
    "${env}", "${interpreter}", "-c",
    f"raise SystemExit('{NO_PROGRAM}: run it with wandb.agent(sweep_id, function=...) or sweepq agent --function')",
)


class AgentError(ValueError):
    """An agent cannot serve this sweep (unknown, not created for agents, or no program to run)."""


def agent_spec(spec: SweepSpec) -> SweepSpec:
    """The spec with a queue of its own, so that only agents take its trials."""
    queue = f"{QUEUE_PREFIX}{uuid.uuid4().hex[:12]}"
    return spec.model_copy(update={"resources": spec.resources.model_copy(update={"queue": queue})})


def agent_sweep_spec(source: str | Path | Mapping[str, Any], dialect: str = "auto", function: bool = False) -> SweepSpec:
    """A validated spec for an agent sweep (SpecError names each bad field); with `function`, a W&B config needs no
    program (its trials call the agent's function)."""
    from orchestrator.dialects import detect
    from orchestrator.loading import load_spec, read_document

    doc = dict(source) if isinstance(source, Mapping) else read_document(source)
    chosen = detect(doc) if dialect == "auto" else dialect
    if function and chosen == "wandb" and "program" not in doc and "command" not in doc:
        doc["command"] = list(NO_PROGRAM_COMMAND)
    return agent_spec(load_spec(doc, chosen))


def has_program(spec: SweepSpec) -> bool:
    """False for a sweep created without a program (it runs only with a function)."""
    return not (isinstance(spec.trial, CommandTrial) and spec.trial.command == NO_PROGRAM_COMMAND)


# -- Redis: the configured one, else the local store (./.sweepq) or the default one -----------------------------
def resolve_settings(settings: Settings | None = None) -> Settings:
    """Settings whose Redis answers: a configured URL; else the local store when it exists (what `sweepq run`
    and the read commands use), else the default URL if a Redis answers there, else a new local store."""
    if settings is not None:
        return settings
    s = Settings()
    if "redis_url" in s.model_fields_set:
        return s
    if not (s.data_dir / "server.json").is_file() and _answers(s.redis_url):
        return s
    from orchestrator.local import ensure_local_redis

    url = ensure_local_redis(s.data_dir)  # held until this process exits; the server stops with its last holder
    os.environ["SWEEPQ_REDIS_URL"] = url  # later Settings() and the processes this one starts use it too
    for name in ("SWEEPQ_REDIS_PASSWORD", "SWEEPQ_REDIS_USERNAME"):  # the store's URL carries its own
        os.environ.pop(name, None)
    log.warning("no Redis URL configured: using the local store in %s", s.data_dir)
    return Settings()


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


# -- the scheduler and evaluator an agent runs while it works -----------------------------------------------
class Services:
    """The scheduler and the evaluator in threads; each leads only while no other holds its lock."""

    def __init__(self, settings: Settings) -> None:
        from orchestrator.evaluator import Evaluator
        from orchestrator.scheduler import Scheduler

        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=Scheduler(settings).run, args=(self.stop,), name="sweepq-scheduler", daemon=True),
            threading.Thread(target=Evaluator(settings).run, args=(self.stop,), name="sweepq-evaluator", daemon=True),
        ]

    def __enter__(self) -> Services:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)


# -- running a function as a trial ------------------------------------------------------------------------------
def trial_binding(ctx: TrialContext, project: str | None = None, entity: str | None = None) -> Binding:
    """A W&B binding for one claimed trial: each committed step is a report; a stop request raises TrialStopped."""

    def emit(values: dict[str, float], step: int | None) -> None:
        metrics = {k: v for k, v in values.items() if k not in STEP_NAMES}
        if step is None:
            step = next((int(values[n]) for n in STEP_NAMES if n in values), None)
        stop = ctx.reporter.send(metrics, step) if metrics else None
        reason = stop or ctx.stop_reason
        if reason is not None:
            raise TrialStopped(reason)

    return Binding(
        emit=emit, trial_id=f"{ctx.sweep_id}/{ctx.number}", sweep_id=ctx.sweep_id, params=nest(dict(ctx.params)),
        output_dir=str(ctx.output_dir), resumed=ctx.resume_from is not None, project=project, entity=entity,
    )


class FunctionRunner:
    """Runs W&B's `function` (no arguments; it calls wandb.init()) as the claimed trial, in this process.

    Its final value is its run's summary value of the metric (the last logged one unless the script set it); an
    exception fails the trial and the agent goes on; Ctrl-C cancels the trial and ends the agent. A function that
    ignores a stop request past the grace period, or outlives trial_timeout_minutes, is interrupted (agent_watch).
    """

    def __init__(self, function: Callable[[], Any], session: Session, project: str | None = None,
                 entity: str | None = None) -> None:
        self.function, self.session = function, session
        self.project, self.entity = project, entity
        self.interrupted = False

    def __call__(self, ctx: TrialContext) -> Outcome:
        os.environ["SWEEPQ_OUTPUT_DIR"] = str(ctx.output_dir)
        with self.session.bound(trial_binding(ctx, self.project, self.entity)):
            status, error = self._call(ctx)
            run = self.session.run
        summary = run.summary if run is not None else {}
        metric = ctx.spec.metric
        value = None if metric is None else as_number(summary.get(metric.name))
        return Outcome(status=status, value=value if value is not None else ctx.reporter.last, error=error)

    def _call(self, ctx: TrialContext) -> tuple[str, str | None]:
        from orchestrator.agent_watch import ForcedStop, TrialTimedOut, Watchdog

        try:
            with Watchdog(ctx):
                self.function()
                self.session.finish()
        except TrialStopped as stop:
            return stop.reason, None
        except ForcedStop:
            grace = ctx.stop_grace_seconds
            return ctx.stop_reason or "canceled", f"interrupted: still running {grace:g} s after the stop request"
        except TrialTimedOut:
            return "failed", f"timed out after {ctx.spec.limits.trial_timeout_minutes} minutes"
        except KeyboardInterrupt:
            self.interrupted = True
            return "canceled", "interrupted (Ctrl-C in the agent)"
        except SystemExit as exc:
            if exc.code not in (None, 0):
                return "failed", f"SystemExit({exc.code!r})"
        except Exception as exc:
            return "failed", "".join(traceback.format_exception(exc)[-20:]).strip()
        finally:
            self._finish_quietly()
        return "completed", None

    def _finish_quietly(self) -> None:
        try:
            self.session.finish()
        except (TrialStopped, Exception):  # the trial already ended; a last step refused now changes nothing
            log.debug("finishing the run after its function ended", exc_info=True)


# -- the agent loop ---------------------------------------------------------------------------------------------
class Agent:
    """Takes the sweep's trial messages one at a time and runs each here, up to `count` trials."""

    def __init__(self, settings: Settings, sweep_id: str, runner: Runner | None = None, count: int | None = None,
                 poll_seconds: float = 0.2) -> None:
        from orchestrator.client import SweepClient
        from workers.app import create_app

        self.settings, self.sweep_id, self.runner, self.count = settings, sweep_id, runner, count
        self.poll = poll_seconds
        self.ledger = SweepClient(settings=settings).ledger
        doc = self.ledger.sweep(sweep_id)
        if doc is None:
            raise AgentError(f"no sweep {sweep_id!r} in this Redis ({settings.redis_url})")
        self.doc = doc
        self.spec = SweepSpec.model_validate(doc["spec"])
        self.queue = self.spec.resources.effective_queue
        if not self.queue.startswith(QUEUE_PREFIX):
            raise AgentError(
                f"sweep {sweep_id} sends its trials to queue {self.queue!r}, served by workers (`sweepq worker -Q "
                f"{self.queue}`); agents serve sweeps created for them: wandb.sweep(config) or `sweepq agent CONFIG`"
            )
        if runner is None and not has_program(self.spec):
            raise AgentError(f"sweep {sweep_id} has no program: give a function (wandb.agent(..., function=...) or "
                             "sweepq agent --function module:function)")
        if runner is None and isinstance(self.spec.trial, PythonTrial):
            from orchestrator.agent_watch import Guarded
            from workers.runners import RUNNERS

            self.runner = Guarded(RUNNERS["python"])  # stop and time limits without Celery's
        self.app = create_app(settings)
        self.node = f"agent-{os.getpid()}@{socket.gethostname()}"
        self.statuses: Counter[str] = Counter()

    @property
    def ran(self) -> int:
        return sum(self.statuses.values())

    def run(self) -> Counter[str]:
        """Run trials until `count` of them ran, the sweep ended, or Ctrl-C; returns how many ended how."""
        with Services(self.settings), self.app.connection_for_read() as conn:
            try:
                self._loop(conn)
            except KeyboardInterrupt:  # Ctrl-C while waiting for a trial: the agent ends, as W&B's does
                print("sweepq agent: interrupted", file=sys.stderr, flush=True)
        return self.statuses

    def _loop(self, conn: Any) -> None:
        while self.count is None or self.ran < self.count:
            if getattr(self.runner, "interrupted", False):
                return
            try:
                message = conn.default_channel.basic_get(self.queue, no_ack=False)
            except Exception as exc:  # Redis away for a moment: wait and try again
                log.warning("cannot read queue %s: %s", self.queue, exc)
                time.sleep(1.0)
                conn.ensure_connection(max_retries=None)
                continue
            if message is None:
                if self._ended():
                    return
                time.sleep(self.poll)
                continue
            self._handle(message)

    def _ended(self) -> bool:
        try:
            doc = self.ledger.sweep(self.sweep_id) or {}
        except redis.RedisError:
            return False
        return doc.get("status") in ENDED

    @staticmethod
    def _ack(message: Any) -> None:
        """Acknowledge; if the broker is away the message comes back after the visibility timeout and the claim
        drops it (the trial is no longer queued)."""
        try:
            message.ack()
        except Exception as exc:
            log.warning("could not acknowledge a trial message (%s); a redelivery will be dropped", exc)

    def _handle(self, message: Any) -> None:
        from workers.app import TRIAL_TASK
        from workers.tasks import run_trial

        headers = message.headers or {}
        if message.content_type != "application/json" or headers.get("task") != TRIAL_TASK:
            log.warning("dropping a message that is not a JSON sweepq trial task: %s", headers.get("task"))
            message.ack()
            return
        _, kwargs, _ = message.decode()
        if kwargs.get("sweep") != self.sweep_id:  # each agent sweep has a queue of its own: forged or misrouted
            log.warning("dropping a message for sweep %r found on %s's queue", kwargs.get("sweep"), self.sweep_id)
            self._ack(message)
            return
        try:
            result = run_trial(self.settings, str(headers.get("id")), self.node, self.sweep_id, int(kwargs["trial"]),
                               int(kwargs.get("attempt", 1)), runner=self.runner, queue=self.queue)
        finally:
            self._ack(message)
        if "dropped" not in result:
            self.statuses[str(result["status"])] += 1
            value = f", value {result['value']:.6g}" if isinstance(result.get("value"), (int, float)) else ""
            print(f"sweepq agent: trial {self.sweep_id}/{kwargs['trial']} {result['status']}{value}", file=sys.stderr,
                  flush=True)
