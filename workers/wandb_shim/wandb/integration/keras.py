"""wandb.integration.keras: WandbMetricsLogger (and WandbCallback), logging each epoch to sweepq."""

from __future__ import annotations

from ..keras import WandbCallback, WandbMetricsLogger

__all__ = ["WandbCallback", "WandbMetricsLogger"]
