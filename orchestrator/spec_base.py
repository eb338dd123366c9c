"""The base of every spec model: frozen, and refusing unknown keys so a typo never silently does nothing."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
