"""wandb.integration.keras for `orchestrator.wandb`: WandbMetricsLogger (and WandbCallback)."""

from __future__ import annotations

from orchestrator.wandb.keras import WandbCallback, WandbMetricsLogger

__all__ = ["WandbCallback", "WandbMetricsLogger"]
