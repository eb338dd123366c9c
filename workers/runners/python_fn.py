"""Python-callable trials: "package.module:function" called in the worker's pool process.

The function gets the parameters as keyword arguments (nested groups as dicts), or as one dict when the spec
says `call: dict`. A number it returns is the final metric; a dict it returns gives the final metric under the
primary metric's name (its other numbers are kept as final extras); None means the last reported value counts.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from orchestrator.space import nest
from orchestrator.spec import PythonTrial
from workers.reporting import TrialStopped, activate
from workers.runners.base import Outcome, TrialContext


def load_callable(ref: str) -> Callable[..., Any]:
    """Import "package.module:function"; errors name what was not found."""
    module_name, _, attr = ref.partition(":")
    module = importlib.import_module(module_name)
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise AttributeError(f"{module_name} has no callable {attr!r}")
    return fn  # type: ignore[no-any-return]


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def interpret_result(result: Any, metric: str | None, last: float | None) -> tuple[float | None, dict[str, float]]:
    """The final metric and final extras from a function's return value (see the module docstring)."""
    if result is None:
        return last, {}
    number = _as_number(result)
    if number is not None:
        return number, {}
    if isinstance(result, Mapping):
        extras = {str(k): v for k, v in ((k, _as_number(v)) for k, v in result.items()) if v is not None}
        value = extras.pop(metric, None) if metric is not None else None
        return (value if value is not None else last), extras
    raise TypeError(f"a trial function returns a number, a dict of numbers or None, not {type(result).__name__}")


@contextlib.contextmanager
def children_allowed() -> Iterator[None]:
    """Let the trial use multiprocessing (and joblib's n_jobs) inside a Celery pool process, which is daemonic.

    multiprocessing refuses children to a daemonic process (and joblib then quietly runs on one core). The flag
    exists so that a process's children do not outlive it; the worker kills whatever a trial leaves behind
    (workers/runners/reaper.py), so the trial may have children. The flag is restored after the trial.
    """
    import multiprocessing

    config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
    daemon = config.get("daemon")
    config["daemon"] = False
    try:
        yield
    finally:
        if daemon is None:
            config.pop("daemon", None)
        else:
            config["daemon"] = daemon


def run_python(ctx: TrialContext) -> Outcome:
    """Call the trial function; TrialStopped ends it as stopped, any other exception as failed."""
    trial = ctx.spec.trial
    assert isinstance(trial, PythonTrial)
    reporter = ctx.reporter
    activate(reporter)
    try:
        fn = load_callable(trial.function)
        params = nest(dict(ctx.params))
        os.environ["SWEEPQ_OUTPUT_DIR"] = str(ctx.output_dir)
        if ctx.resume_from and "resume_from" in inspect.signature(fn).parameters:
            params["resume_from"] = ctx.resume_from  # a resumed trial's checkpoint, for functions that take it
        with children_allowed():
            result = fn(params) if trial.call == "dict" else fn(**params)
        value, extras = interpret_result(result, ctx.spec.metric.name if ctx.spec.metric else None, reporter.last)
    except TrialStopped as stop:
        return Outcome(status=stop.reason, value=reporter.last)
    except SoftTimeLimitExceeded:
        minutes = ctx.spec.limits.trial_timeout_minutes
        return Outcome(status="failed", value=reporter.last, error=f"timed out after {minutes} minutes")
    except Exception as exc:
        lines = traceback.format_exception(exc)
        return Outcome(status="failed", value=reporter.last, error="".join(lines[-20:]).strip())
    finally:
        activate(None)
    return Outcome(status="completed", value=value, metrics=extras)
