"""Spec dialects: files written for other tools, translated into sweepq's native spec (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.dialects.wandb import from_wandb, looks_like_wandb

DIALECTS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {"wandb": from_wandb}


def detect(doc: Mapping[str, Any]) -> str:
    """The dialect a document is written in: "wandb" when it has W&B's keys, else "native"."""
    return "wandb" if looks_like_wandb(doc) else "native"


__all__ = ["DIALECTS", "detect", "from_wandb", "looks_like_wandb"]
