"""W&B sweep configs, as their users wrote them, translated into the native spec.

Every W&B distribution maps onto a sweepq expression: log_uniform_values / inv_log_uniform_values (min, max are
values) and log_uniform / inv_log_uniform (min, max are exponents) onto loguniform; int_uniform (inclusive),
beta, q_beta and categorical with probabilities onto their own expressions. Errors are collected and raised
together, with W&B's field paths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from orchestrator.loading import Problem, SpecError

METHODS = {"grid": "grid", "random": "random", "bayes": "bayesian"}
DEFAULT_COMMAND = ["${env}", "${interpreter}", "${program}", "${args}"]
IGNORED = {"project", "entity", "controller", "imageUri", "job"}  # W&B bookkeeping with no meaning here
KNOWN = {"name", "description", "program", "method", "metric", "parameters", "early_terminate", "run_cap", "command"}
DEFAULT_CONCURRENCY = 4  # W&B's concurrency is its number of agents; a W&B config has no such key
UNBOUNDED_MINUTES = 10080  # a W&B sweep without run_cap runs until stopped: a week, HyperDrive's default
DISCRETE = {"constant", "categorical", "int_uniform", "q_uniform"}


def looks_like_wandb(doc: Mapping[str, Any]) -> bool:
    return "method" in doc and "sampling" not in doc and "trial" not in doc


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _infer(p: Mapping[str, Any]) -> str | None:
    if "distribution" in p:
        return str(p["distribution"])
    if "value" in p:
        return "constant"
    if "values" in p:
        return "categorical"
    if "min" in p and "max" in p:
        return "int_uniform" if _is_int(p["min"]) and _is_int(p["max"]) else "uniform"
    return None


def _bounds(p: Mapping[str, Any], dist: str) -> tuple[float, float]:
    if "min" not in p or "max" not in p:
        raise ValueError(f"{dist} needs min and max")
    lo, hi = float(p["min"]), float(p["max"])
    if lo >= hi:
        raise ValueError(f"min ({p['min']}) must be less than max ({p['max']})")
    return lo, hi


def _log_values(p: Mapping[str, Any], dist: str) -> tuple[float, float]:
    lo, hi = _bounds(p, dist)
    if lo <= 0:
        raise ValueError(f"{dist} needs min > 0 (it is the smallest value, not an exponent), got {p['min']}")
    return math.log(lo), math.log(hi)


def _q_steps(lo: float, hi: float, q: float) -> list[float | int]:
    """W&B's q_uniform grid: min, min + q, ... up to max."""
    count = math.floor((hi - lo) / q + 1e-9) + 1
    values = [round(lo + k * q, 12) for k in range(count)]
    return [int(v) if float(v).is_integer() and float(q).is_integer() else v for v in values]


def expression(p: Mapping[str, Any], grid: bool) -> dict[str, Any]:
    """The native (tagged) expression of one W&B parameter; ValueError says what is wrong with it."""
    dist = _infer(p)
    if dist is None:
        raise ValueError("cannot infer the distribution: give value, values, min and max, or distribution")
    if grid and dist not in DISCRETE:
        raise ValueError(f"grid search needs discrete parameters (constant, categorical, int_uniform, q_uniform); "
                         f"this one is {dist}")
    q = float(p.get("q", 1))
    if dist == "constant":
        if "value" not in p:
            raise ValueError("constant needs value")
        return {"type": "choice", "values": [p["value"]]}
    if dist == "categorical":
        values = p.get("values")
        if not isinstance(values, list) or not values:
            raise ValueError("categorical needs a non-empty list of values")
        if "probabilities" in p and not grid:
            return {"type": "categorical", "values": values, "probabilities": p["probabilities"]}
        if "probabilities" in p:
            probabilities = p["probabilities"]
            if not math.isclose(sum(probabilities), 1.0, abs_tol=1e-6):
                raise ValueError(f"probabilities must sum to 1 (they sum to {sum(probabilities):g})")
        return {"type": "choice", "values": values}
    if dist == "int_uniform":
        if not (_is_int(p.get("min")) and _is_int(p.get("max"))):
            raise ValueError("int_uniform needs integer min and max")
        first, last = int(p["min"]), int(p["max"])
        if first > last:
            raise ValueError(f"min ({first}) must not exceed max ({last})")
        if grid:
            return {"type": "choice", "values": list(range(first, last + 1))}
        return {"type": "int_uniform", "low": first, "high": last}
    if dist == "q_uniform":
        lo, hi = _bounds(p, dist)
        if grid:
            return {"type": "choice", "values": _q_steps(lo, hi, q)}
        return {"type": "quniform", "low": lo, "high": hi, "q": q}
    return _continuous(dist, p, q)


def _span(kind: str, bounds: tuple[float, float], **extra: float) -> dict[str, Any]:
    return {"type": kind, "low": bounds[0], "high": bounds[1], **extra}


def _continuous(dist: str, p: Mapping[str, Any], q: float) -> dict[str, Any]:
    mu, sigma = float(p.get("mu", 0.0)), float(p.get("sigma", 1.0))
    a, b = float(p.get("a", 1.0)), float(p.get("b", 1.0))
    table: dict[str, Any] = {
        "uniform": lambda: _span("uniform", _bounds(p, dist)),
        "log_uniform_values": lambda: _span("loguniform", _log_values(p, dist)),
        "inv_log_uniform_values": lambda: _span("loguniform", _log_values(p, dist)),  # 1/X log-uniform: same law
        "q_log_uniform_values": lambda: _span("qloguniform", _log_values(p, dist), q=q),
        "log_uniform": lambda: _span("loguniform", _bounds(p, dist)),
        "q_log_uniform": lambda: _span("qloguniform", _bounds(p, dist), q=q),
        "inv_log_uniform": lambda: _span("loguniform", tuple(-x for x in reversed(_bounds(p, dist)))),  # type: ignore[arg-type]
        "normal": lambda: {"type": "normal", "mu": mu, "sigma": sigma},
        "q_normal": lambda: {"type": "qnormal", "mu": mu, "sigma": sigma, "q": q},
        "log_normal": lambda: {"type": "lognormal", "mu": mu, "sigma": sigma},
        "q_log_normal": lambda: {"type": "qlognormal", "mu": mu, "sigma": sigma, "q": q},
        "beta": lambda: {"type": "beta", "a": a, "b": b},
        "q_beta": lambda: {"type": "q_beta", "a": a, "b": b, "q": q},
    }
    if dist not in table:
        known = ", ".join(sorted([*DISCRETE, *table]))
        raise ValueError(f"unknown distribution {dist!r}; W&B's are: {known}")
    result: dict[str, Any] = table[dist]()
    return result


def parameters(params: Any, path: str, grid: bool, problems: list[Problem]) -> dict[str, Any]:
    """Native parameters (nested groups kept) from W&B's parameters block."""
    if not isinstance(params, Mapping) or not params:
        problems.append(Problem(path, "parameters must be a non-empty mapping of parameter names"))
        return {}
    out: dict[str, Any] = {}
    for name, p in params.items():
        where = f"{path}.{name}"
        if not str(name).isidentifier():
            problems.append(Problem(where, f"parameter names must be valid identifiers, {name!r} is not"))
            continue
        if not isinstance(p, Mapping):
            problems.append(Problem(where, "each parameter is a mapping (value, values, min/max, distribution, ...)"))
            continue
        if "parameters" in p:
            out[name] = {"parameters": parameters(p["parameters"], f"{where}.parameters", grid, problems)}
            continue
        try:
            out[name] = expression(p, grid)
        except (ValueError, TypeError) as exc:
            problems.append(Problem(where, str(exc)))
    return out


def _metric(doc: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
    metric = doc.get("metric")
    if not isinstance(metric, Mapping) or "name" not in metric:
        problems.append(Problem("metric", "metric needs a name (and goal: minimize or maximize)"))
        return {"name": "metric", "goal": "minimize"}
    goal = metric.get("goal", "minimize")
    if goal not in ("minimize", "maximize"):
        problems.append(Problem("metric.goal", f"goal must be 'minimize' or 'maximize', got {goal!r}"))
    out = {"name": metric["name"], "goal": goal if goal in ("minimize", "maximize") else "minimize"}
    if metric.get("target") is not None:
        out["target"] = metric["target"]
    return out


def _early_terminate(et: Any, problems: list[Problem]) -> dict[str, Any] | None:
    if et is None:
        return None
    if not isinstance(et, Mapping) or et.get("type") != "hyperband":
        problems.append(Problem("early_terminate.type", "early_terminate supports type: hyperband"))
        return None
    if "max_iter" in et and "s" not in et:
        problems.append(Problem("early_terminate", "hyperband with max_iter needs s"))
    if "max_iter" not in et and "min_iter" not in et:
        problems.append(Problem("early_terminate", "hyperband needs min_iter, or max_iter and s"))
    keys = ("min_iter", "max_iter", "s", "eta", "strict")
    return {"policy": "hyperband", **{k: et[k] for k in keys if k in et}}


def from_wandb(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The native spec of a W&B sweep config; SpecError lists every problem with its W&B path."""
    problems = [Problem(k, "unknown key in a W&B sweep config") for k in doc if k not in KNOWN | IGNORED]
    method = doc.get("method")
    if method not in METHODS:
        problems.append(Problem("method", f"method must be one of grid, random, bayes; got {method!r}"))
    grid = method == "grid"
    params = parameters(doc.get("parameters"), "parameters", grid, problems)
    metric = _metric(doc, problems)
    et = _early_terminate(doc.get("early_terminate"), problems)
    command = doc.get("command", DEFAULT_COMMAND)
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        problems.append(Problem("command", "command must be a list of strings"))
        command = DEFAULT_COMMAND
    if "${program}" in command and not doc.get("program"):
        problems.append(Problem("program", "program is required (the command uses ${program})"))
    if problems:
        raise SpecError(problems, "(W&B sweep config)")
    limits: dict[str, Any] = {"max_concurrent_runs": DEFAULT_CONCURRENCY}
    if doc.get("run_cap") is not None:
        limits["max_total_runs"] = doc["run_cap"]
    elif not grid:
        limits["max_duration_minutes"] = UNBOUNDED_MINUTES
    spec: dict[str, Any] = {
        "name": doc.get("name") or str(doc.get("program") or "wandb-sweep"),
        "description": doc.get("description", ""),
        "trial": {"command": command, "wandb_shim": True, **({"program": doc["program"]} if doc.get("program") else {})},
        "parameters": params,
        "sampling": {"method": METHODS[str(method)]},
        "metric": metric,
        "limits": limits,
    }
    if et is not None:
        spec["early_termination"] = et
    return spec
