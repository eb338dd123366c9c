"""Ends an agent's function trial that ignores a stop request or outlives its time limit, as W&B's agent does.

An agent runs the function in its own thread, so the trial cannot be killed like a worker's process. A stop
request is honoured at the function's next `wandb.log`; if the function is still running after the stop grace
period (or when it reaches `trial_timeout_minutes`), this watchdog raises an exception inside that thread with
PyThreadState_SetAsyncExc (what W&B's agent uses to end a function run). It takes effect at the thread's next
Python instruction, so a long call into C (a sleep, a big matrix product) finishes first. Processes the trial
started (subprocesses, multiprocessing workers, and theirs while their parent lives) end with the trial.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
from types import TracebackType

from workers.runners.base import Outcome, Runner, TrialContext
from workers.runners.reaper import descendants, kill_tree

log = logging.getLogger("sweepq.agent")


class ForcedStop(BaseException):
    """Raised in the function's thread: it did not stop within the grace period after a stop request."""


class TrialTimedOut(BaseException):
    """Raised in the function's thread: the trial reached trial_timeout_minutes."""


def _raise_in(thread_id: int, exc_type: type[BaseException] | None) -> None:
    """Schedule exc_type in that thread (None clears a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc_type) if exc_type else None)


class Watchdog:
    """Watches one trial while the calling thread runs its function; `with Watchdog(ctx): function()`."""

    def __init__(self, ctx: TrialContext, poll_seconds: float = 0.1) -> None:
        self.ctx, self.poll = ctx, poll_seconds
        self.target = threading.get_ident()
        minutes = ctx.spec.limits.trial_timeout_minutes
        self.timeout = None if minutes is None else minutes * 60
        self.lock = threading.Lock()
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="sweepq-agent-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self.before = set(descendants(os.getpid()))
        self.thread.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        with self.lock:
            self.ended.set()
            _raise_in(self.target, None)  # the function is over: an exception not yet delivered is dropped
        self.thread.join(timeout=1)
        left = descendants(os.getpid(), exclude=self.before)  # what the trial started ends with it
        if left:
            log.info("ending %d process(es) the trial left behind: %s", len(left), left)
            kill_tree(left, grace=min(self.ctx.stop_grace_seconds, 2.0))

    def _watch(self) -> None:
        start = time.monotonic()
        stop_at: float | None = None
        while not self.ended.wait(self.poll):
            now = time.monotonic()
            if stop_at is None and self.ctx.stop_event.is_set():
                stop_at = now + self.ctx.stop_grace_seconds
            if stop_at is not None and now >= stop_at:
                self._interrupt(ForcedStop)
                return
            if self.timeout is not None and now - start >= self.timeout:
                self._interrupt(TrialTimedOut)
                return

    def _interrupt(self, exc_type: type[BaseException]) -> None:
        with self.lock:
            if not self.ended.is_set():
                _raise_in(self.target, exc_type)


class Guarded:
    """A runner for Python trials run by an agent: interrupted like a W&B function when it ignores a stop request
    or outlives its time limit (in a worker, Celery's time limits and revoke do this); Ctrl-C cancels the trial and
    sets `interrupted`, so that the agent ends."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.interrupted = False

    def __call__(self, ctx: TrialContext) -> Outcome:
        try:
            with Watchdog(ctx):
                return self.runner(ctx)
        except ForcedStop:
            error = f"interrupted: still running {ctx.stop_grace_seconds:g} s after the stop request"
            return Outcome(status=ctx.stop_reason or "canceled", value=ctx.reporter.last, error=error)
        except TrialTimedOut:
            minutes = ctx.spec.limits.trial_timeout_minutes
            return Outcome(status="failed", value=ctx.reporter.last, error=f"timed out after {minutes} minutes")
        except KeyboardInterrupt:
            self.interrupted = True
            return Outcome(status="canceled", value=ctx.reporter.last, error="interrupted (Ctrl-C in the agent)")
