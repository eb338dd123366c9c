"""wandb.keras for `orchestrator.wandb`: WandbCallback (and WandbMetricsLogger) log each epoch to the agent's trial."""

from __future__ import annotations

from orchestrator.wandb import _session
from workers.wandb_shim.wandb._keras import make_callbacks

WandbCallback, WandbMetricsLogger = make_callbacks(_session)
