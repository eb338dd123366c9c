"""sweepq workers: the Celery app, the trial task and its runners, and report() for trial code.

`from workers import report` is the public API for Python trials; everything else is the worker's internals.
"""

from __future__ import annotations

from workers.reporting import TrialStopped, report

__all__ = ["TrialStopped", "report"]
