"""sweepq: distributed hyperparameter sweeps on Celery + Redis + Optuna.

Importing the package connects to nothing.
"""

from __future__ import annotations

from orchestrator.loading import SpecError, load_spec
from orchestrator.spec import SweepSpec

__version__ = "0.1.0"
__all__ = ["SpecError", "SweepSpec", "load_spec"]
