"""sweepq's stand-in for `wandb` inside a command trial: W&B training scripts report to sweepq unchanged.

The worker puts this package first on a W&B trial's PYTHONPATH. `wandb.init()` returns a run bound to the trial
(id, name, sweep_id, project, config, summary, step, resumed, dir, log, define_metric, save, finish, the URLs,
a context manager); `wandb.config` holds the sweep's parameters (they override init's config defaults);
each committed `wandb.log` step is one `sweepq:` line on stdout, which the worker turns into a report. A summary
value the script sets itself (`run.summary["acc"] = ...`) is reported last, so it is the trial's final value,
as W&B ranks runs by their summary. `wandb.keras.WandbCallback` and `wandb.integration.keras.WandbMetricsLogger`
log each epoch. Anything else raises `wandb.Unsupported` naming it and what sweepq offers instead.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import sys
from typing import Any

from ._core import Binding, Run, Session, Settings, login
from ._values import Config, Error, Summary, Unsupported

__all__ = ["Config", "Error", "Run", "Settings", "Summary", "Unsupported", "agent", "define_metric", "finish", "init",
           "log", "login", "save", "sweep"]
__version__ = "0.0.0+sweepq"


def _line(values: dict[str, float], step: int | None) -> None:
    """One committed step as the metric line the command runner parses."""
    pairs = " ".join(f"{k}={v!r}" if math.isfinite(v) else f"{k}={v}" for k, v in values.items() if " " not in k)
    if step is not None:
        pairs += f" step={int(step)}"
    if pairs:
        print(f"sweepq: {pairs}", file=sys.stdout, flush=True)


def _final_summary(run: Run) -> None:
    """Summary values the script set, reported last so that they are the trial's final values (W&B's ranking)."""
    explicit = run.explicit_summary(changed_only=True)
    if explicit:
        _line(explicit, run.step if run._explicit_step else None)


def _binding() -> Binding:
    env = os.environ
    return Binding(
        emit=_line, trial_id=env.get("SWEEPQ_TRIAL_ID", ""), sweep_id=env.get("SWEEPQ_SWEEP_ID", ""),
        params=json.loads(env.get("SWEEPQ_PARAMS", "{}")), output_dir=env.get("SWEEPQ_OUTPUT_DIR"),
        resumed=bool(env.get("SWEEPQ_RESUME_FROM")), on_finish=_final_summary,
    )


_session = Session(_binding)
init = _session.init
log = _session.log
finish = _session.finish
save = _session.save
define_metric = _session.define_metric
atexit.register(_session.finish)  # W&B finishes the run when the script exits: the pending step is committed


def sweep(*args: Any, **kwargs: Any) -> str:
    """Outside a trial, `orchestrator.wandb.sweep`; inside one, refused (a trial does not start sweeps)."""
    return _outside_trial("sweep")(*args, **kwargs)  # type: ignore[no-any-return]


def agent(*args: Any, **kwargs: Any) -> None:
    """Outside a trial, `orchestrator.wandb.agent`; inside one, refused (a trial does not run other trials)."""
    _outside_trial("agent")(*args, **kwargs)


def _outside_trial(name: str) -> Any:
    if os.environ.get("SWEEPQ_TRIAL_ID"):
        raise Unsupported(
            f"wandb.{name}() inside a sweepq trial is refused: create sweeps and run agents from the driving script "
            f"with `import orchestrator.wandb as wandb`, or with `sweepq submit` / `sweepq agent`"
        )
    try:
        import orchestrator.wandb as api
    except ImportError:
        raise Unsupported(f"wandb.{name}() needs sweepq installed (`import orchestrator.wandb as wandb`)") from None
    return getattr(api, name)


def __getattr__(name: str) -> Any:
    if name in ("keras", "integration"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    return _session.attribute(name)

