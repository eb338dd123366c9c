"""What every sampler offers: ask for trial N's parameters, and learn from trials as they end.

Samplers hold no state that cannot be rebuilt: a restarted scheduler creates a fresh one and replays the
stored trials through observe(), so a sampler must accept any trial (its own, or a warm-start sweep's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

TrialState = Literal["queued", "running", "completed", "failed", "stopped", "canceled"]
FINISHED: frozenset[str] = frozenset({"completed", "failed", "stopped", "canceled"})


@dataclass(frozen=True)
class TrialRecord:
    """A trial as a sampler sees it: flat parameters, its state, and the value to learn from.

    value is the final primary metric for a completed trial, and the best reported value for a stopped
    one (so Bayesian sampling learns from early-terminated trials; documented in the README).
    """

    number: int
    params: Mapping[str, Any]
    state: TrialState = "queued"
    value: float | None = None
    source: str = ""  # the sweep a warm-start trial comes from; "" for this sweep's own trials
    values: tuple[float, ...] | None = None  # every objective's final value, for multi-objective sweeps
    constraints: tuple[float, ...] | None = None  # each constraint's violation (<= 0: met), for constrained sweeps

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


class Sampler(Protocol):
    """Ask/tell over a search space; pure and rebuildable from history."""

    def ask(self, number: int) -> dict[str, Any] | None:
        """Flat parameters for trial `number`, or None when the space is exhausted (grid)."""
        ...

    def observe(self, record: TrialRecord) -> None:
        """Learn of a trial (pending or finished); calling it again as the trial ends is expected."""
        ...

    def remaining(self) -> int | None:
        """How many more points the sampler can give, or None when unbounded."""
        ...
