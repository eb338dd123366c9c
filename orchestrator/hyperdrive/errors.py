"""The errors a ported HyperDrive script may meet: an Azure-only call, a failed run, no run context."""

from __future__ import annotations


class NotInSweepq(NotImplementedError):
    """An Azure ML service call sweepq does not have; the message names the call and what sweepq offers instead."""

    def __init__(self, call: str, instead: str) -> None:
        super().__init__(f"{call} is an Azure ML service call, not in sweepq: {instead}")
        self.call = call
        self.instead = instead


class ActivityFailedException(RuntimeError):
    """wait_for_completion(raise_on_error=True) on a run or sweep that failed (HyperDrive's exception name)."""


class RunEnvironmentException(RuntimeError):
    """Run.get_context(allow_offline=False) outside a sweepq trial."""
