"""The values a drop-in W&B run holds: wandb.config, run.summary, the numbers wandb.log reports, and the errors
for what the drop-in refuses. Standard library only, so that it imports fast inside a trial."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

OFFERS: dict[str, str] = {
    "watch": "sweepq records the numbers you pass to wandb.log; log gradients or weights statistics yourself",
    "Artifact": "write files into run.dir (the trial's output directory, kept per trial) or use run.save(path)",
    "log_artifact": "write files into run.dir (the trial's output directory) or use run.save(path)",
    "use_artifact": "read inputs from a path or URL your script knows",
    "Table": "sweepq records numbers only; write tables into run.dir",
    "Image": "sweepq records numbers only; write images into run.dir",
    "Histogram": "sweepq records numbers only; log summary statistics as numbers",
    "Video": "sweepq records numbers only; write videos into run.dir",
    "Audio": "sweepq records numbers only; write audio into run.dir",
    "Html": "sweepq records numbers only; write HTML into run.dir",
    "plot": "sweepq's dashboard and `sweepq report` draw the sweep's charts",
    "Api": "sweepq's Python API: orchestrator.SweepClient / Sweep (trials(), best_trial(), metrics())",
    "alert": "watch the sweep with `sweepq status --watch` or the dashboard",
    "controller": "sweepq's scheduler is the controller: `sweepq scheduler`, or the one wandb.agent() starts",
}


class Unsupported(AttributeError, NotImplementedError):
    """A W&B feature sweepq's drop-in does not implement (an AttributeError too, so hasattr() answers False)."""


class Error(Exception):
    """A misuse W&B also refuses (e.g. wandb.log before wandb.init)."""


def unsupported(name: str) -> Unsupported:
    """The error for a W&B name the drop-in lacks, with what sweepq offers instead."""
    offer = OFFERS.get(name, "sweepq's drop-in implements init, config, log, summary, finish, save, define_metric")
    return Unsupported(f"wandb.{name} is not implemented by sweepq's W&B drop-in: {offer}")


def as_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as `a/b` keys, as W&B shows them."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "/"))
        else:
            out[name] = value
    return out


class Config(dict):  # type: ignore[type-arg]
    """wandb.config: the sweep's parameters, readable as attributes or items; the script's defaults never win."""

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        return Config(value) if isinstance(value, dict) else value

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __missing__(self, key: str) -> Any:
        """A dotted W&B parameter name ("opt.lr") reaches the trial nested, as sweepq passes nested groups; W&B
        scripts read it flat, so a dotted key that is not there is looked up along its path."""
        if not isinstance(key, str) or "." not in key:
            raise KeyError(key)
        node: Any = self
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(key)
            node = node[part]
        return node

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        try:
            self.__missing__(key)  # type: ignore[arg-type]
        except KeyError:
            return False
        return True

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def update(self, other: Any = (), allow_val_change: bool = False, **kwargs: Any) -> None:  # type: ignore[override]
        """Defaults from the script never override the sweep's parameters (as in a W&B sweep)."""
        for key, value in dict(config_items(other), **kwargs).items():
            if key not in self:  # a dotted default never shadows the nested sweep value
                self[key] = value

    def setdefaults(self, other: Any) -> None:
        self.update(other)

    def as_dict(self) -> dict[str, Any]:
        return dict(self)


def config_items(config: Any) -> dict[str, Any]:
    """wandb.init(config=...): a dict, an argparse.Namespace (or any object with attributes), or None."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    if isinstance(config, argparse.Namespace) or hasattr(config, "__dict__"):
        return {k: v for k, v in vars(config).items() if not k.startswith("_")}
    if isinstance(config, (list, tuple)):
        return dict(config)
    if isinstance(config, str):
        raise Unsupported("wandb.init(config=<file name>) is not implemented by sweepq's drop-in: load it, pass a dict")
    raise TypeError(f"wandb.init(config=...) takes a dict or an argparse.Namespace, not {type(config).__name__}")


class Summary(dict):  # type: ignore[type-arg]
    """run.summary: each metric's last logged value (or as define_metric says), unless the script sets it."""

    def __init__(self) -> None:
        super().__init__()
        self.explicit: dict[str, None] = {}  # the keys the script set, in order

    def __setitem__(self, key: str, value: Any) -> None:
        self.explicit[key] = None
        super().__setitem__(key, value)

    def update(self, other: Any = (), **kwargs: Any) -> None:  # type: ignore[override]
        for key, value in dict(other, **kwargs).items():
            self[key] = value

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def record(self, key: str, value: Any) -> None:
        """A logged value: the summary follows it unless the script set this key itself."""
        if key not in self.explicit:
            dict.__setitem__(self, key, value)
