"""sweepq's stand-in for `wandb` inside a sweep trial: W&B training scripts run unchanged and report to sweepq.

Works: `wandb.init(...)` (project, config, ... accepted; returns a run), `wandb.config` (the sweep's parameters,
nested groups as dicts, attribute and item access, `update`, `get`), `wandb.log({...}, step=...)` (numbers are
reported; other values such as images are ignored), `wandb.finish()`, `run.summary` (kept locally).
Anything else (`wandb.watch`, `wandb.Artifact`, `wandb.Table`, ...) is a harmless no-op.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping
from typing import Any


class Config(dict):  # type: ignore[type-arg]
    """wandb.config: the sweep's parameters, readable as attributes or items."""

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        return Config(value) if isinstance(value, dict) else value

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def update(self, other: Any = (), allow_val_change: bool = False, **kwargs: Any) -> None:  # type: ignore[override]
        """Defaults from the script never override the sweep's parameters (as in W&B)."""
        items = dict(other.items() if isinstance(other, Mapping) else other, **kwargs)
        for key, value in items.items():
            self.setdefault(key, value)

    def as_dict(self) -> dict[str, Any]:
        return dict(self)


config = Config(json.loads(os.environ.get("SWEEPQ_PARAMS", "{}")))
summary: dict[str, Any] = {}


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "/"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None, **_: Any) -> None:
    """Report the numbers in `data` as one sweepq report (a `sweepq:` line on stdout)."""
    values = _flatten(data)
    if not values:
        return
    pairs = " ".join(f"{k}={v!r}" if math.isfinite(v) else f"{k}={v}" for k, v in values.items() if " " not in k)
    if step is not None:
        pairs += f" step={int(step)}"
    print(f"sweepq: {pairs}", file=sys.stdout, flush=True)
    summary.update(values)


class Run:
    def __init__(self, project: str | None = None, name: str | None = None) -> None:
        self.project, self.name = project, name
        self.id = os.environ.get("SWEEPQ_TRIAL_ID", "offline")
        self.config = config
        self.summary = summary

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None, **_: Any) -> None:
        log(data, step=step, commit=commit)

    def finish(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.finish()


run: Run | None = None


def init(project: str | None = None, config: Mapping[str, Any] | None = None, name: str | None = None, **_: Any) -> Run:
    """Start the run: `config` gives defaults that the sweep's parameters override."""
    global run
    if config:
        globals()["config"].update(config)
    run = Run(project, name)
    return run


def finish(*args: Any, **kwargs: Any) -> None:
    pass


def _noop(*args: Any, **kwargs: Any) -> Any:
    return None


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return _noop
