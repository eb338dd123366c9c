"""The scheduler's decisions as a pure function: a snapshot of one sweep in, the commands to apply out.

No I/O here: the scheduler process (orchestrator.scheduler) builds the snapshot from Redis and applies the
commands, so every rule (concurrency, budgets, retries, ending) is unit-tested without Redis or Celery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from orchestrator.samplers.base import Sampler

IN_FLIGHT = frozenset({"queued", "running"})
SweepEnd = Literal["completed", "canceled", "failed"]
ERRORS_SHOWN = 3  # failed trials whose error a failed sweep's reason quotes
ERROR_CHARS = 200  # each quoted error is cut to this many characters


@dataclass(frozen=True)
class TrialView:
    """What scheduling needs of one trial."""

    number: int
    status: str
    attempt: int = 1
    best: float | None = None
    lease_alive: bool | None = None  # None: not checked in this step (only running trials are checked)
    stop_reason: str | None = None  # set once a stop was requested (stopped | canceled)
    stop_requested_at: float | None = None
    revoked: bool = False


@dataclass(frozen=True)
class SweepSnapshot:
    """One sweep's state at time `now` (seconds since the epoch), with its limits from the spec.

    `trials` must hold every queued or running trial; finished ones may be left out (they only matter through
    `next_number` and `best_value`).
    """

    now: float
    started: float
    next_number: int
    trials: tuple[TrialView, ...]
    goal: Literal["maximize", "minimize"] = "maximize"
    max_total_runs: int | None = None
    max_concurrent_runs: int = 1
    max_duration_seconds: float | None = None
    max_retries: int = 0
    target: float | None = None
    best_value: float | None = None  # the best value any trial produced (finished trials need not be listed)
    cancel_requested: bool = False
    stop_requested: bool = False  # W&B's "stop": no new trials, running ones finish
    paused: bool = False  # no new trials until resumed; running ones go on
    stop_grace_seconds: float = 10.0
    succeeded: int = 0  # trials that completed or were stopped by a policy (they produced a result)
    failed: int = 0
    consecutive_failures: int = 0  # trials failed in a row (in the order they ended) since the last success
    max_consecutive_failures: int | None = None  # None: never stop for failures
    failure_errors: tuple[tuple[int, str], ...] = ()  # (trial, error) of the first failures since the last success
    exploits: tuple[PendingExploit, ...] = ()  # population sweeps: members to start in place of exploited ones
    replacements: int = 0  # trials started for exploits (they do not count against max_total_runs)
    population: bool = False  # a population sweep: it ends when every member finished and no exploit waits


@dataclass(frozen=True)
class PendingExploit:
    """A population exploit the evaluator recorded and no member carries out yet: start one with these params."""

    key: str
    params: dict[str, Any]


@dataclass(frozen=True)
class StartTrial:
    number: int
    params: dict[str, Any]


@dataclass(frozen=True)
class StartMember(StartTrial):
    """Start a population member that replaces an exploited one (from the donor's copied checkpoint)."""

    exploit: str = ""


@dataclass(frozen=True)
class RetryTrial:
    """Requeue a trial whose worker vanished, as attempt `attempt`."""

    number: int
    attempt: int
    reason: str


@dataclass(frozen=True)
class EndTrial:
    """Close a trial whose worker vanished: failed (retries spent) or the stop it had been asked for."""

    number: int
    attempt: int
    status: str
    reason: str


@dataclass(frozen=True)
class CancelQueued:
    numbers: tuple[int, ...]
    reason: str


@dataclass(frozen=True)
class RequestStop:
    """Cooperative stop: the flag the trial's next report() or heartbeat sees."""

    numbers: tuple[int, ...]
    reason: Literal["stopped", "canceled"]


@dataclass(frozen=True)
class Revoke:
    """Forceful stop after the grace period: Celery revoke(terminate=True) and the process group killed."""

    numbers: tuple[int, ...]


@dataclass(frozen=True)
class FinishSweep:
    status: SweepEnd
    reason: str


Command = StartTrial | StartMember | RetryTrial | EndTrial | CancelQueued | RequestStop | Revoke | FinishSweep


@dataclass
class _Plan:
    commands: list[Command] = field(default_factory=list)
    in_flight: int = 0


def reached(value: float | None, target: float | None, goal: str) -> bool:
    """Whether a metric value meets the sweep's target (NaN never does)."""
    if value is None or target is None or math.isnan(value):
        return False
    return value >= target if goal == "maximize" else value <= target


def _reap(snap: SweepSnapshot, plan: _Plan) -> set[int]:
    """Commands for running trials whose lease expired; returns the numbers that leave flight."""
    gone: set[int] = set()
    for t in snap.trials:
        if t.status != "running" or t.lease_alive is not False:
            continue
        if t.stop_reason:
            plan.commands.append(EndTrial(t.number, t.attempt, t.stop_reason, "worker gone after a stop request"))
            gone.add(t.number)
        elif t.attempt <= snap.max_retries:
            plan.commands.append(RetryTrial(t.number, t.attempt + 1, "worker lost (lease expired); retrying"))
        else:
            plan.commands.append(EndTrial(t.number, t.attempt, "failed", "worker lost (lease expired)"))
            gone.add(t.number)
    return gone


def error_line(error: str | None) -> str:
    """One line for a trial's error: the traceback's last line (prefixed by `exit code N` for commands), cut short."""
    lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    if not lines:
        return "failed (no error recorded)"
    line = lines[-1]
    if len(lines) > 1 and lines[0].startswith("exit code"):
        line = f"{lines[0]}: {line}"
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def _errors(snap: SweepSnapshot) -> str:
    return "; ".join(f"#{n}: {error_line(e)}" for n, e in snap.failure_errors[:ERRORS_SHOWN])


def _failing(snap: SweepSnapshot) -> str | None:
    """The reason to stop a sweep whose trials keep failing, if they failed max_consecutive_failures times in a row."""
    limit = snap.max_consecutive_failures
    if not limit or snap.consecutive_failures < limit:
        return None
    return (f"{snap.consecutive_failures} trials failed in a row (limits.max_consecutive_failures = {limit}); "
            f"first errors: {_errors(snap)}")


def _finish(snap: SweepSnapshot, status: SweepEnd, reason: str) -> FinishSweep:
    """End the sweep; one that produced no result and had failures ends failed, quoting the first errors."""
    if status == "completed" and snap.succeeded == 0 and snap.failed > 0:
        return FinishSweep("failed", f"{reason}; no trial succeeded ({snap.failed} failed); first errors: {_errors(snap)}")
    return FinishSweep(status, reason)


def _end_reason(snap: SweepSnapshot) -> tuple[SweepEnd, str, bool] | None:
    """Why the sweep ends now, if it does: (status, reason, whether running trials are canceled)."""
    if snap.cancel_requested:
        return "canceled", "canceled by user", True
    if snap.stop_requested:
        return "completed", "stopped by user", False
    if snap.max_duration_seconds is not None and snap.now - snap.started >= snap.max_duration_seconds:
        return "completed", "max_duration_minutes reached", True
    if reached(snap.best_value, snap.target, snap.goal) or any(reached(t.best, snap.target, snap.goal) for t in snap.trials):
        return "completed", "metric target reached", False
    failing = _failing(snap)
    if failing is not None:
        return "failed", failing, False
    return None


def _wind_down(snap: SweepSnapshot, flying: list[TrialView], cancel_running: bool, plan: _Plan) -> None:
    """Cancel queued trials; ask running ones to stop, then revoke them after the grace period."""
    queued = tuple(t.number for t in flying if t.status == "queued")
    if queued:
        plan.commands.append(CancelQueued(queued, "sweep ended before the trial started"))
    if not cancel_running:
        return
    ask = tuple(t.number for t in flying if t.status == "running" and t.stop_reason is None)
    if ask:
        plan.commands.append(RequestStop(ask, "canceled"))


def _revoke_overdue(snap: SweepSnapshot, flying: list[TrialView], plan: _Plan) -> None:
    """A running trial that ignored its stop request (cancel or policy) for the grace period gets revoked."""
    overdue = tuple(
        t.number
        for t in flying
        if t.status == "running"
        and t.stop_requested_at is not None
        and not t.revoked
        and snap.now - t.stop_requested_at >= snap.stop_grace_seconds
    )
    if overdue:
        plan.commands.append(Revoke(overdue))


def step(snap: SweepSnapshot, sampler: Sampler) -> list[Command]:
    """The commands that move one running sweep forward; asks the sampler for each new trial."""
    plan = _Plan()
    gone = _reap(snap, plan)
    flying = [t for t in snap.trials if t.status in IN_FLIGHT and t.number not in gone]
    ending = _end_reason(snap)
    if ending is not None:
        status, reason, cancel_running = ending
        _wind_down(snap, flying, cancel_running, plan)
        _revoke_overdue(snap, flying, plan)
        if not any(t.status == "running" for t in flying):
            plan.commands.append(_finish(snap, status, reason))
        return plan.commands
    _revoke_overdue(snap, flying, plan)
    if snap.paused:
        return plan.commands
    free = snap.max_concurrent_runs - len(flying)
    number = snap.next_number
    for e in snap.exploits[: max(free, 0)]:  # a replacement takes a freed slot before any new sample
        plan.commands.append(StartMember(number, e.params, e.key))
        number += 1
    sampled = snap.next_number - snap.replacements
    budget = math.inf if snap.max_total_runs is None else snap.max_total_runs - sampled
    slots = min(free - (number - snap.next_number), budget)
    exhausted = False
    while slots > 0:
        params = sampler.ask(number)
        if params is None:
            exhausted = True
            break
        plan.commands.append(StartTrial(number, params))
        number += 1
        slots -= 1
    started = number - snap.next_number
    if not flying and started == 0 and not snap.exploits and (exhausted or budget <= 0):
        why = "search space exhausted" if exhausted or sampler.remaining() == 0 else "max_total_runs reached"
        why = "population finished" if snap.population else why
        plan.commands.append(_finish(snap, "completed", why))
    return plan.commands


INBOX_PACE_SECONDS = 0.005  # the least time between two reads of the inboxes while workers have a backlog
BACKLOG = 4  # queued trials (sent, not yet started) in one sweep that make a backlog


def inbox_pace(queued: list[int]) -> float:
    """How long the scheduler lets its inboxes fill between two reads, given each led sweep's queued trials.

    While a sweep has a backlog of sent trials, a few ms more before the next one is sent idle no worker, and a
    read then takes several trial ends at once (one round trip and one step for all of them). Without a backlog
    every trial end is answered at once, so a worker never waits on the pace for its next trial.
    """
    return INBOX_PACE_SECONDS if any(n >= BACKLOG for n in queued) else 0.0
