"""W&B sweep configs, as their users wrote them, translated into the native spec.

What W&B accepts and refuses is decided in wandb_schema (its engine's rules); here each accepted parameter becomes
a native expression: log_uniform_values / inv_log_uniform_values (min, max are values) and the nested-only
log_uniform family (exponents) onto loguniform; int_uniform (inclusive), beta, q_beta and categorical with
probabilities onto their own expressions. A grid enumerates like W&B's grid_search.py: int_uniform as
range(min, max + 1), q_uniform as numpy.arange(min, max, q) (max excluded), and values W&B hashes alike (dicts
in another key order, 1 and 1.0, NaN and NaN) as one point. Errors are collected and raised together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import yaml

from orchestrator.dialects import wandb_schema as schema
from orchestrator.loading import Problem, SpecError
from orchestrator.space import MAX_GRID_POINTS

METHODS = {"grid": "grid", "random": "random", "bayes": "bayesian"}
DEFAULT_COMMAND = ["${env}", "${interpreter}", "${program}", "${args}"]
DEFAULT_CONCURRENCY = 4  # W&B's concurrency is its number of agents; a W&B config has no such key
UNBOUNDED_MINUTES = 10080  # a W&B sweep without run_cap runs until stopped: a week, HyperDrive's default
NATIVE_ONLY = {"sampling", "trial", "limits", "early_termination", "resources", "resume_from", "resume_child_runs"}
WANDB_ONLY = {"method", "program", "command", "early_terminate", "run_cap", "controller", "entity", "project", "job",
              "image_uri", "apiVersion", "kind"}


def looks_like_wandb(doc: Mapping[str, Any]) -> bool:
    """A W&B config: no native-only key, and a W&B-only key or W&B-style parameters (so a config that forgot
    `method` is still read as W&B's and refused for it)."""
    if NATIVE_ONLY & set(doc):
        return False
    params = doc.get("parameters")
    wandb_params = isinstance(params, Mapping) and bool(params) and all(
        isinstance(p, Mapping) and "type" not in p and set(p) <= schema.PARAM_KEYS for p in params.values())
    return bool(WANDB_ONLY & set(doc)) or wandb_params


def wandb_key(value: Any) -> str:
    """The key under which W&B's grid tells values apart (grid_search.yaml_hash without the md5)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(yaml.dump(value, default_flow_style=True, sort_keys=True))


def grid_values(values: list[Any]) -> list[Any]:
    """The values once each, as W&B's grid counts them: in first-seen order, each the last of its equals (W&B's
    lookup from key to value keeps the last, so [1, 1.0] runs 1.0)."""
    seen: dict[str, Any] = {}
    for v in values:
        seen[wandb_key(v)] = v
    return list(seen.values())


def q_steps(p: Mapping[str, Any]) -> list[Any]:
    """W&B's q_uniform grid: numpy.arange(min, max, q), so max itself is never a point."""
    span = (p["max"] - p["min"]) / p.get("q", 1.0) if p.get("q", 1.0) else math.inf
    if not span <= MAX_GRID_POINTS:  # counted before numpy allocates it (q = 1e-9 asked for 7 GiB)
        raise ValueError(f"a q_uniform grid from {p['min']} to {p['max']} in steps of {p.get('q', 1.0)} has "
                         f"{span:.3g} points, more than the limit of {MAX_GRID_POINTS:,}")
    values: list[Any] = np.arange(p["min"], p["max"], p.get("q", 1.0)).tolist()
    return values


def _span(kind: str, lo: float, hi: float, **extra: float) -> dict[str, Any]:
    return {"type": kind, "low": lo, "high": hi, **extra}


def _continuous(dist: str, p: Mapping[str, Any]) -> dict[str, Any]:
    lo, hi = p.get("min", 0), p.get("max", 0)
    q, mu, sigma = p.get("q", 1.0), p.get("mu", 0.0), p.get("sigma", 1.0)
    a, b = p.get("a", 1.0), p.get("b", 1.0)
    table: dict[str, Any] = {
        "uniform": lambda: _span("uniform", lo, hi),
        "q_uniform": lambda: _span("quniform", lo, hi, q=q),
        "log_uniform_values": lambda: _span("loguniform", math.log(lo), math.log(hi)),
        "inv_log_uniform_values": lambda: _span("loguniform", math.log(lo), math.log(hi)),  # 1/X log-uniform: same law
        "q_log_uniform_values": lambda: _span("qloguniform", math.log(lo), math.log(hi), q=q),
        "log_uniform": lambda: _span("loguniform", lo, hi),
        "q_log_uniform": lambda: _span("qloguniform", lo, hi, q=q),
        "inv_log_uniform": lambda: _span("loguniform", -hi, -lo),
        "normal": lambda: {"type": "normal", "mu": mu, "sigma": sigma},
        "q_normal": lambda: {"type": "qnormal", "mu": mu, "sigma": sigma, "q": q},
        "log_normal": lambda: {"type": "lognormal", "mu": mu, "sigma": sigma},
        "q_log_normal": lambda: {"type": "qlognormal", "mu": mu, "sigma": sigma, "q": q},
        "beta": lambda: {"type": "beta", "a": a, "b": b},
        "q_beta": lambda: {"type": "q_beta", "a": a, "b": b, "q": q},
    }
    result: dict[str, Any] = table[dist]()
    return result


def expression(p: Mapping[str, Any], dist: str, grid: bool) -> dict[str, Any]:
    """The native (tagged) expression of one parameter W&B accepted as `dist`."""
    if dist == "constant":
        return {"type": "choice", "values": [p["value"]]}
    if dist == "categorical":
        return {"type": "choice", "values": grid_values(p["values"]) if grid else p["values"]}
    if dist == "categorical_w_probabilities":
        return {"type": "categorical", "values": p["values"], "probabilities": p["probabilities"]}
    if dist == "int_uniform":
        if grid:
            if p["max"] - p["min"] >= MAX_GRID_POINTS:  # counted, never enumerated
                raise ValueError(f"a grid over int_uniform {p['min']}..{p['max']} has {p['max'] - p['min'] + 1:,} "
                                 f"points, more than the limit of {MAX_GRID_POINTS:,}")
            return {"type": "choice", "values": list(range(p["min"], p["max"] + 1))}
        return {"type": "int_uniform", "low": p["min"], "high": p["max"]}
    if dist == "q_uniform" and grid:
        return {"type": "choice", "values": grid_values(q_steps(p))}
    return _continuous(dist, p)


def parameters(params: Any, path: str, grid: bool, problems: list[Problem]) -> dict[str, Any]:
    """Native parameters (nested groups kept) from W&B's parameters block."""
    if not isinstance(params, Mapping) or not params:
        problems.append(Problem(path, "parameters must be a non-empty mapping of parameter names"))
        return {}
    out: dict[str, Any] = {}
    for name, p in params.items():
        where = f"{path}.{name}"
        if not isinstance(name, str) or not schema.NAME_RE.match(name):
            problems.append(Problem(where, f"parameter names start with a letter or _ and hold only letters, digits, "
                                           f"_, . and -; {name!r} does not"))
            continue
        if not isinstance(p, Mapping):
            problems.append(Problem(where, "each parameter is a mapping (value, values, min/max, distribution, ...)"))
            continue
        dist = schema.parameter_kind(p, where, path == "parameters", problems)
        if dist == "group":
            out[name] = {"parameters": parameters(p["parameters"], f"{where}.parameters", grid, problems)}
        elif dist is not None and grid and dist not in schema.GRID_KINDS:
            why = "probabilities are not allowed" if dist == "categorical_w_probabilities" else f"this one is {dist}"
            problems.append(Problem(where, f"grid search needs constant, categorical, int_uniform or q_uniform "
                                           f"parameters; {why}"))
        elif dist is not None:
            try:
                out[name] = expression(p, dist, grid)
            except ValueError as exc:
                problems.append(Problem(where, str(exc)))
    return out


def _metric(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """The native metric: W&B ranks a run by its summary value, which is its last logged value."""
    m = doc.get("metric")
    if not isinstance(m, Mapping):
        return None
    out = {"name": m["name"], "goal": m.get("goal", "minimize"), "summary": "last"}
    if m.get("target") is not None:
        out["target"] = m["target"]
    return out


def _early_terminate(et: Mapping[str, Any]) -> dict[str, Any]:
    """Native hyperband with W&B's defaults filled as its schema fills them (eta 3, strict true)."""
    iters = {"max_iter": int(et["max_iter"]), "s": et["s"]} if "max_iter" in et else {"min_iter": int(et["min_iter"])}
    return {"policy": "hyperband", **iters, "eta": et.get("eta", 3), "strict": et.get("strict", True)}


def _command(doc: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
    command = doc.get("command", DEFAULT_COMMAND)
    command = [c if isinstance(c, str) else str(c) for c in command] if isinstance(command, list) else DEFAULT_COMMAND
    if any("${program}" in c for c in command) and not doc.get("program"):
        problems.append(Problem("program", "program is required: the command runs ${program}"))
    program = {"program": doc["program"]} if doc.get("program") else {}
    return {"command": command, "wandb_shim": True, **program}


def from_wandb(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The native spec of a W&B sweep config; SpecError lists every problem with its W&B path."""
    problems = schema.top_level(doc) + schema.metric(doc)
    if "early_terminate" in doc:
        problems += schema.early_terminate(doc["early_terminate"])
    grid = doc.get("method") == "grid"
    has_params = isinstance(doc.get("parameters"), Mapping) and bool(doc["parameters"])  # else top_level says so
    params = parameters(doc["parameters"], "parameters", grid, problems) if has_params else {}
    command = _command(doc, problems)
    if problems:
        raise SpecError(problems, "(W&B sweep config)")
    run_cap = doc.get("run_cap")
    limits: dict[str, Any] = {"max_concurrent_runs": DEFAULT_CONCURRENCY}
    if run_cap is not None:
        limits["max_total_runs"] = int(run_cap)
    elif not grid:
        limits["max_duration_minutes"] = UNBOUNDED_MINUTES
    spec: dict[str, Any] = {
        "name": doc.get("name") or str(doc.get("program") or "wandb-sweep"),
        "description": doc.get("description", ""),
        "trial": command,
        "parameters": params,
        "sampling": {"method": METHODS[str(doc["method"])]},
        "limits": limits,
    }
    if (metric := _metric(doc)) is not None:
        spec["metric"] = metric
    if "early_terminate" in doc:
        spec["early_termination"] = _early_terminate(doc["early_terminate"])
    return spec
