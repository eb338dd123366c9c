"""sweepq: distributed hyperparameter sweeps on Celery + Redis + Optuna.

Importing the package connects to nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.loading import SpecError, load_spec
from orchestrator.spec import SweepSpec

__version__ = "0.1.0"
__all__ = ["SpecError", "Sweep", "SweepClient", "SweepSpec", "load_spec"]

if TYPE_CHECKING:
    from orchestrator.client import Sweep, SweepClient


def __getattr__(name: str) -> Any:
    """SweepClient and Sweep load on first use, so importing the pure core does not import redis."""
    if name in ("Sweep", "SweepClient"):
        from orchestrator import client

        return getattr(client, name)
    raise AttributeError(f"module 'orchestrator' has no attribute {name!r}")
