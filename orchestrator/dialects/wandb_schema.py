"""W&B's sweep-config rules, as its engine applies them, so a config is accepted or refused exactly as on W&B.

Read from W&B's open-source engine (the `sweeps` package, 0.3.0): config/schema.json (keys, types, bounds, no
unknown keys anywhere), config/cfg.py (min < max, probabilities, the log_uniform deprecation), params.py (which
schema a parameter matches, in order), grid_search.py (grid-only distributions) and hyperband_stopping.py (the
metric and the bands it needs). Pure: no I/O.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator.loading import Problem

METHODS = ("grid", "random", "bayes")
STRINGS = ("apiVersion", "description", "program", "job", "image_uri", "entity", "project", "name")
LAUNCH_ONLY = {
    "metrics": "metrics (multi-objective) needs W&B's method: custom with a Launch scheduler; sweepq's native spec "
               "has metrics: [...] instead",
    "scheduler": "scheduler (W&B Launch's optuna/ax engines) is not supported; use sweepq's native spec",
}
TOP_KEYS = {*STRINGS, "kind", "controller", "method", "command", "run_cap", "metric", "early_terminate", "parameters",
            *LAUNCH_ONLY}
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")  # schema.json: parameters.propertyNames

# Each distribution's keys besides `distribution` (schema.json's param_* definitions).
DISTRIBUTIONS: dict[str, frozenset[str]] = {
    "constant": frozenset({"value"}),
    "categorical": frozenset({"values"}),
    "categorical_w_probabilities": frozenset({"values", "probabilities"}),
    "int_uniform": frozenset({"min", "max"}),
    "uniform": frozenset({"min", "max"}),
    "q_uniform": frozenset({"min", "max", "q"}),
    "log_uniform_values": frozenset({"min", "max"}),
    "inv_log_uniform_values": frozenset({"min", "max"}),
    "q_log_uniform_values": frozenset({"min", "max", "q"}),
    "log_uniform": frozenset({"min", "max"}),
    "inv_log_uniform": frozenset({"min", "max"}),
    "q_log_uniform": frozenset({"min", "max", "q"}),
    "normal": frozenset({"mu", "sigma"}),
    "q_normal": frozenset({"mu", "sigma", "q"}),
    "log_normal": frozenset({"mu", "sigma"}),
    "q_log_normal": frozenset({"mu", "sigma", "q"}),
    "beta": frozenset({"a", "b"}),
    "q_beta": frozenset({"a", "b", "q"}),
}
REQUIRED = frozenset({"value", "values", "probabilities", "min", "max"})  # the others have defaults
PARAM_KEYS = frozenset({"distribution", "parameters"}.union(*DISTRIBUTIONS.values()))
DEPRECATED = {"log_uniform": "log_uniform_values", "inv_log_uniform": "inv_log_uniform_values",
              "q_log_uniform": "q_log_uniform_values"}
GRID_KINDS = ("constant", "categorical", "int_uniform", "q_uniform")
METRIC_KEYS = {"name", "goal", "target", "impute", "impute_while_running"}
IMPUTE = {"impute": ("latest", "best", "worst"), "impute_while_running": ("latest", "best", "worst", "false")}
HYPERBAND_KEYS = {"type", "min_iter", "max_iter", "s", "eta", "strict"}


def is_number(v: Any) -> bool:
    """JSON schema's number: an int or a float, never a bool."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def is_integer(v: Any) -> bool:
    """JSON schema's integer (draft 7): an int, or a float with no fractional part; never a bool."""
    return is_number(v) and float(v).is_integer()


def is_int(v: Any) -> bool:
    """W&B's "integer" format (int_uniform's bounds): a Python int, so 1.0 is not one."""
    return isinstance(v, int) and not isinstance(v, bool)


def _unknown(key: Any, known: Iterable[str], where: str) -> str:
    """Why an unknown key is refused, with the likely intended key when it is a near miss."""
    close = difflib.get_close_matches(str(key), list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key in {where} ({hint}its keys: {', '.join(sorted(known))})"


def _infer(p: Mapping[str, Any]) -> str | None:
    """The distribution W&B's params.py settles on when none is given (the first schema that matches)."""
    keys = set(p) & PARAM_KEYS
    if keys == {"value"}:
        return "constant"
    if keys == {"values"}:
        return "categorical"
    if keys == {"values", "probabilities"}:
        return "categorical_w_probabilities"
    if keys == {"min", "max"}:
        return "int_uniform" if is_int(p["min"]) and is_int(p["max"]) else "uniform"
    return None


def _why_not_inferred(p: Mapping[str, Any]) -> str:
    keys = sorted(set(p) & PARAM_KEYS)
    if "value" in keys and "values" in keys:
        return "give value (a constant) or values (a list), not both"
    return (f"cannot tell the distribution from {', '.join(keys) or 'no keys'}: give value, values (with optional "
            "probabilities), min and max, or a distribution")


def _bounds_problem(dist: str, p: Mapping[str, Any]) -> str | None:
    """What W&B refuses about min and max: their types, a non-positive min for *_values, min >= max."""
    if dist == "int_uniform":
        if not (is_int(p["min"]) and is_int(p["max"])):
            return "int_uniform needs integer min and max"
    elif not (is_number(p["min"]) and is_number(p["max"])):
        return "min and max must be numbers"
    if dist.endswith("_values") and p["min"] <= 0:
        return f"{dist} needs min > 0 (min and max are values, not exponents), got {p['min']}"
    if p["min"] >= p["max"]:
        return f"min {p['min']} is not less than max {p['max']}"
    return None


def _number_problems(dist: str, p: Mapping[str, Any], path: str) -> list[Problem]:
    out = []
    for key in ("q", "mu", "sigma", "a", "b"):
        if key in p and not is_number(p[key]):
            out.append(Problem(f"{path}.{key}", f"{key} must be a number"))
    if is_number(p.get("q")) and p["q"] <= 0:
        out.append(Problem(f"{path}.q", f"q must be greater than 0, got {p['q']}"))
    for key in ("sigma", "a", "b"):  # W&B accepts 0 here, then samples NaN (scipy needs a positive scale / shape)
        if is_number(p.get(key)) and p[key] <= 0:
            out.append(Problem(f"{path}.{key}", f"{key} must be greater than 0, got {p[key]} (W&B accepts 0 and "
                                                "then samples NaN)"))
    return out


def _values_problems(dist: str, p: Mapping[str, Any], path: str) -> list[Problem]:
    values = p.get("values")
    if not isinstance(values, list) or not values:
        return [Problem(f"{path}.values", "values must be a non-empty list")]
    if dist != "categorical_w_probabilities":
        return []
    probs = p["probabilities"]
    if not isinstance(probs, list) or not probs or not all(is_number(x) and x >= 0 for x in probs):
        return [Problem(f"{path}.probabilities", "probabilities must be a non-empty list of numbers >= 0")]
    if len(probs) != len(values):
        return [Problem(f"{path}.probabilities", f"{len(probs)} probabilities for {len(values)} values")]
    if not math.isclose(sum(probs), 1.0, rel_tol=1e-5, abs_tol=1e-8):  # numpy.isclose's tolerances
        return [Problem(f"{path}.probabilities", f"probabilities {probs} do not sum to 1")]
    return []


def parameter_kind(p: Mapping[str, Any], path: str, top: bool, problems: list[Problem]) -> str | None:
    """The W&B distribution of one parameter (or "group" for nested parameters); None, with problems, if W&B
    refuses it. Unknown keys are refused with their path, so a misspelled key never changes the distribution."""
    before = len(problems)
    problems.extend(Problem(f"{path}.{k}", _unknown(k, PARAM_KEYS, "a W&B parameter")) for k in p if k not in PARAM_KEYS)
    if "parameters" in p:
        if set(p) & PARAM_KEYS != {"parameters"}:
            problems.append(Problem(path, "nested parameters hold only `parameters`"))
        return "group" if len(problems) == before else None
    dist = p.get("distribution")
    if dist is None:
        dist = _infer(p)
        if dist is None:
            problems.append(Problem(path, _why_not_inferred(p)))
            return None
    elif not isinstance(dist, str) or dist not in DISTRIBUTIONS:
        problems.append(Problem(f"{path}.distribution", f"unknown distribution {dist!r}; W&B's are: "
                                                         f"{', '.join(sorted(DISTRIBUTIONS))}"))
        return None
    dist = str(dist)
    allowed = DISTRIBUTIONS[dist]
    problems.extend(Problem(f"{path}.{k}", f"{k} does not belong to a {dist} parameter (its keys: distribution, "
                                           f"{', '.join(sorted(allowed))})")
                    for k in sorted(set(p) & PARAM_KEYS - allowed - {"distribution"}))
    missing = sorted(allowed & REQUIRED - set(p))
    if missing:
        problems.append(Problem(path, f"a {dist} parameter needs {' and '.join(missing)}"))
    if len(problems) > before:
        return None
    if "min" in allowed and (why := _bounds_problem(dist, p)):
        problems.append(Problem(path, why))
    problems.extend(_number_problems(dist, p, path))
    if "values" in allowed:
        problems.extend(_values_problems(dist, p, path))
    if top and dist in DEPRECATED and len(problems) == before:
        problems.append(Problem(path, f"uses {dist}, where min/max specify base-e exponents. Use {DEPRECATED[dist]} "
                                      "to specify limit values."))
    return dist if len(problems) == before else None


def top_level(doc: Mapping[str, Any]) -> list[Problem]:
    """Refusals of the config's own keys: unknown ones, wrong types, method, run_cap, controller, kind."""
    out = [Problem(str(k), _unknown(k, TOP_KEYS, "a W&B sweep config")) for k in doc if k not in TOP_KEYS]
    out += [Problem(k, why) for k, why in LAUNCH_ONLY.items() if k in doc]
    out += [Problem(k, f"{k} must be a string") for k in STRINGS if k in doc and not isinstance(doc[k], str)]
    if "method" not in doc:
        out.append(Problem("method", "method is required: grid, random or bayes"))
    elif doc["method"] == "custom":
        out.append(Problem("method", "method: custom needs a W&B Launch scheduler; sweepq runs grid, random and bayes"))
    elif doc["method"] not in METHODS:
        out.append(Problem("method", f"method must be one of grid, random, bayes; got {doc['method']!r}"))
    if "kind" in doc and doc["kind"] != "sweep":
        out.append(Problem("kind", f"kind must be 'sweep', got {doc['kind']!r}"))
    controller = doc.get("controller", {"type": "cloud"})
    if not isinstance(controller, Mapping) or controller.get("type") not in ("cloud", "local"):
        out.append(Problem("controller.type", "controller is {type: cloud} or {type: local}"))
    if "command" in doc and not isinstance(doc["command"], list):
        out.append(Problem("command", "command must be a list"))
    run_cap = doc.get("run_cap", 1)
    if not is_integer(run_cap) or run_cap <= 0:
        out.append(Problem("run_cap", f"run_cap must be a positive integer, got {run_cap!r}"))
    if not isinstance(doc.get("parameters"), Mapping) or not doc["parameters"]:
        out.append(Problem("parameters", "parameters must be a non-empty mapping of parameter names"))
    return out


def metric(doc: Mapping[str, Any]) -> list[Problem]:
    """Refusals of `metric` (optional; bayes and early_terminate need one)."""
    if "metric" not in doc:
        needs = [why for key, value, why in (("method", "bayes", "bayes search learns from it"),
                                             ("early_terminate", None, "early_terminate compares it"))
                 if key in doc and (value is None or doc[key] == value)]
        return [Problem("metric", f"metric {{name, goal}} is required: {w}") for w in needs]
    m = doc["metric"]
    if not isinstance(m, Mapping):
        return [Problem("metric", "metric is a mapping {name, goal, target}")]
    out = [Problem(f"metric.{k}", _unknown(k, METRIC_KEYS, "metric")) for k in m if k not in METRIC_KEYS]
    if not isinstance(m.get("name"), str):
        out.append(Problem("metric.name", "metric needs a name (a string)"))
    if m.get("goal", "minimize") not in ("minimize", "maximize"):
        out.append(Problem("metric.goal", f"goal must be 'minimize' or 'maximize', got {m['goal']!r}"))
    if "target" in m and not is_number(m["target"]):
        out.append(Problem("metric.target", f"target must be a number, got {m['target']!r}"))
    out += [Problem(f"metric.{k}", f"{k} must be one of {', '.join(choices)}, got {m[k]!r}")
            for k, choices in IMPUTE.items() if k in m and m[k] not in choices]
    return out


def hyperband_bands(et: Mapping[str, Any]) -> list[int]:
    """W&B's bands (hyperband_stopping.py): max_iter / eta^k for k = 1..s, or min_iter * eta^k (100 of them)."""
    eta = float(et.get("eta", 3))
    if "max_iter" in et:
        band, out = float(et["max_iter"]), []
        for _ in range(int(et["s"])):
            band /= eta
            if band < 1:
                break
            out.append(int(band))
        return sorted(out)
    band, out = float(et["min_iter"]), []
    for _ in range(100):
        out.append(int(band))
        band *= eta
    return out


def early_terminate(et: Any) -> list[Problem]:
    """Refusals of `early_terminate` (W&B has one type, hyperband)."""
    if not isinstance(et, Mapping) or et.get("type") != "hyperband":
        return [Problem("early_terminate.type", "early_terminate is {type: hyperband, min_iter | max_iter and s, ...}")]
    out = [Problem(f"early_terminate.{k}", _unknown(k, HYPERBAND_KEYS, "early_terminate"))
           for k in et if k not in HYPERBAND_KEYS]
    checks = (("max_iter", is_integer, "an integer"), ("min_iter", lambda v: is_integer(v) and v >= 1, "an integer >= 1"),
              ("s", is_int, "an integer"), ("eta", lambda v: is_number(v) and v > 1, "a number > 1"),
              ("strict", lambda v: isinstance(v, bool), "true or false"))
    out += [Problem(f"early_terminate.{k}", f"{k} must be {what}, got {et[k]!r}") for k, ok, what in checks
            if k in et and not ok(et[k])]
    if "max_iter" in et and "s" not in et:
        out.append(Problem("early_terminate", "hyperband with max_iter needs s (the number of bands)"))
    elif "max_iter" not in et and "min_iter" not in et:
        out.append(Problem("early_terminate", "hyperband needs min_iter, or max_iter and s"))
    if not out and not hyperband_bands(et):
        out.append(Problem("early_terminate", "these settings give no band: increase s or max_iter, or decrease eta"))
    return out
