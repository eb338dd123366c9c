"""Trial runners, one per trial kind, and the registry the task picks from."""

from __future__ import annotations

from workers.runners.base import Outcome, Runner, TrialContext
from workers.runners.command import run_command
from workers.runners.python_fn import run_python

RUNNERS: dict[str, Runner] = {"python": run_python, "command": run_command}

__all__ = ["RUNNERS", "Outcome", "Runner", "TrialContext"]
