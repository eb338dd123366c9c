"""What a trial runner gets and returns; runners differ only in how they run the trial (call or subprocess)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from orchestrator.spec import SweepSpec
from workers.reporting import Reporter


@dataclass
class TrialContext:
    """One attempt of one trial, as the worker hands it to a runner."""

    sweep_id: str
    number: int
    attempt: int
    spec: SweepSpec
    params: Mapping[str, Any]  # flat, dotted names
    reporter: Reporter
    output_dir: Path
    stop_grace_seconds: float = 10.0
    log_tail_lines: int = 50
    record: Callable[[Mapping[str, Any]], None] = lambda fields: None  # writes fields to the trial's ledger record
    stop_event: threading.Event = field(default_factory=threading.Event)
    stop_reason: str | None = None
    resume_from: str | None = None  # the checkpoint directory of the trial this one resumes

    def request_stop(self, reason: str) -> None:
        """Called by the heartbeat when the stop flag appears; runners react as they can."""
        self.stop_reason = self.stop_reason or reason
        self.stop_event.set()


@dataclass
class Outcome:
    """How the attempt ended: its status, final primary value, other final metrics, and why it failed."""

    status: str
    value: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    exit_code: int | None = None
    log_tail: list[str] = field(default_factory=list)


class Runner(Protocol):
    def __call__(self, ctx: TrialContext) -> Outcome: ...
