"""wandb.keras: W&B's legacy Keras callback (and the current metrics logger), logging each epoch to sweepq."""

from __future__ import annotations

from . import _session
from ._keras import make_callbacks

WandbCallback, WandbMetricsLogger = make_callbacks(_session)
