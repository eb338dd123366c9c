"""Reading parameter expressions as users write them: tagged mappings, positional lists, HyperDrive's call form
("uniform(0, 1)", parsed as literals, never evaluated) and choice(range(...)); and the bounds that keep them sane."""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from typing import Any

from orchestrator.space import EPS

MAX_RANGE_VALUES = 100_000  # choice(range(...)) values at most (README: the sweep spec's bounds)
_PROBES = (0.0, EPS, 0.25, 0.5, 0.75, 1 - EPS, 0.999999999)


# Positional argument names of each expression, in HyperDrive's order.
POSITIONAL: dict[str, tuple[str, ...]] = {
    "choice": ("values",),
    "randint": ("upper",),
    "uniform": ("low", "high"),
    "quniform": ("low", "high", "q"),
    "loguniform": ("low", "high"),
    "qloguniform": ("low", "high", "q"),
    "normal": ("mu", "sigma"),
    "qnormal": ("mu", "sigma", "q"),
    "lognormal": ("mu", "sigma"),
    "qlognormal": ("mu", "sigma", "q"),
}


def _integer(bound: Any) -> int:
    if isinstance(bound, float) and math.isfinite(bound) and bound.is_integer():
        return int(bound)
    if isinstance(bound, bool) or not isinstance(bound, int):
        raise ValueError(f"range bounds must be integers, got {bound!r}")
    return bound


def int_range(bounds: Any) -> list[int]:
    """The values of range(*bounds), refused (ValueError) unless bounds are 1-3 integers giving 1..MAX_RANGE_VALUES."""
    if not isinstance(bounds, list | tuple) or not 1 <= len(bounds) <= 3:
        raise ValueError(f"range takes [stop], [start, stop] or [start, stop, step], got {bounds!r}")
    ints = [_integer(b) for b in bounds]
    if len(ints) == 3 and ints[2] == 0:
        raise ValueError("range step must not be zero")
    span = range(*ints)
    count = max(0, -((span.start - span.stop) // span.step))  # len(span) without its overflow past 2**63
    if not 1 <= count <= MAX_RANGE_VALUES:
        many = f"{count:,}" if count < 10**12 else "more than 10**12"
        raise ValueError(
            f"range{str(tuple(ints))[:60]} gives {many} values; a choice takes 1 to {MAX_RANGE_VALUES:,} "
            "(use randint or quniform for a wider integer range)"
        )
    return list(span)


def _choice_values(arg: Any) -> Any:
    if isinstance(arg, Mapping) and set(arg) == {"range"}:
        return int_range(arg["range"])
    return arg


def computable(expr: Any) -> Any:
    """Refuse an expression whose values overflow or are not finite (e.g. uniform(0, 1e308) with q 1e-308).

    It evaluates the expression across [0, 1) and builds its Optuna view, so every sampler can draw from it.
    """
    if expr.type in ("choice", "categorical"):
        return expr  # the user's own values, NaN included (W&B grids take it); nothing is computed from them
    try:
        for u in _PROBES:
            value = expr.from_unit(u)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"gives {value} at quantile {u:g}")
        expr.optuna()
    except (ArithmeticError, ValueError) as exc:
        raise ValueError(f"{expr.describe()} cannot be computed: {exc} (the bounds or q are out of range)") from None
    return expr


def _positional(kind: str, args: Any) -> dict[str, Any]:
    names = POSITIONAL[kind]
    if kind == "choice":
        return {"type": kind, "values": _choice_values(args)}
    if isinstance(args, Mapping):
        return {"type": kind, **args}
    seq = list(args) if isinstance(args, list | tuple) else [args]
    if len(seq) != len(names):
        raise ValueError(f"{kind} takes {len(names)} argument(s) ({', '.join(names)}), got {len(seq)}: {seq!r}")
    return {"type": kind, **dict(zip(names, seq, strict=True))}


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        return int_range([_literal(a) for a in node.args])
    return ast.literal_eval(node)


def parse_call(text: str) -> dict[str, Any]:
    """Parse HyperDrive's call form, e.g. "loguniform(-9.2, -2.3)" or "choice(range(1, 5))", without eval."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"cannot parse expression {text[:80]!r}: {exc.msg}") from None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in POSITIONAL):
        raise ValueError(f"{text[:80]!r} is not one of: {', '.join(POSITIONAL)} (written like uniform(0, 1))")
    try:
        args = [_literal(a) for a in node.args]
        kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg}
    except (ValueError, TypeError) as exc:
        raise ValueError(f"arguments of {text[:80]!r} must be literals: {str(exc)[:200]}") from None
    kind = node.func.id
    if kind == "choice":
        values = args[0] if len(args) == 1 and isinstance(args[0], list) else args
        return {"type": "choice", "values": values}
    return {**_positional(kind, args), **kwargs} if args else {"type": kind, **kwargs}


def coerce_expression(raw: Any) -> Any:
    """Turn the short forms ({uniform: [0, 1]}, "uniform(0, 1)") into the tagged form pydantic validates."""
    if isinstance(raw, str):
        return parse_call(raw)
    if isinstance(raw, Mapping) and "type" not in raw and len(raw) == 1:
        (kind, args), = raw.items()
        if kind in POSITIONAL:
            return _positional(kind, args)
    return raw
