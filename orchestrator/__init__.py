"""sweepq: distributed hyperparameter sweeps on Celery + Redis + Optuna.

Importing the package connects to nothing; the client and process loops are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.loading import SpecError, load_spec
from orchestrator.spec import SweepSpec

if TYPE_CHECKING:
    from orchestrator.client import Sweep, SweepClient

__version__ = "0.1.0"
__all__ = ["SpecError", "Sweep", "SweepClient", "SweepSpec", "load_spec"]


def __getattr__(name: str) -> Any:
    if name in ("SweepClient", "Sweep"):
        from orchestrator import client

        return getattr(client, name)
    raise AttributeError(f"module 'orchestrator' has no attribute {name!r}")
