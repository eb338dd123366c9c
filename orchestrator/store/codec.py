"""JSON encoding of ledger fields and metric values; strict JSON (no NaN tokens) so any reader can parse it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def metric_json(x: float) -> float | str:
    """A metric as strict JSON: finite floats as numbers, NaN and infinities as the strings nan, inf, -inf."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def metric_float(v: Any) -> float | None:
    """The inverse of metric_json, tolerant of None (no value) and of numbers given as strings ("nan", "-inf")."""
    if v is None or isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def dumps(value: Any) -> str:
    """Strict, compact JSON; finite floats and ints take a fast path (their repr is their JSON).

    NaN and infinities anywhere in the value (a trial's best, a returned metric, a report's values) are stored as
    the strings metric_json gives, which metric_float reads back with their sign: a report of inf must not make
    the write raise and the trial die as "worker lost".
    """
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)):
        return repr(value)
    try:
        return _encode(value)
    except ValueError:  # a non-finite float somewhere: rare, so only then walk the value
        return _encode(_finite(value))


def _finite(value: Any) -> Any:
    """The value with every non-finite float replaced by its metric_json string."""
    if isinstance(value, float):
        return value if math.isfinite(value) else metric_json(value)
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_finite(v) for v in value]
    return value


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


# One encoder for every write: json.dumps with options builds a new encoder per call, which costs more than
# encoding a report's few values (reports and ledger writes are the hot path).
_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_default).encode


# Fields whose non-finite floats must come back as floats, not as metric strings: a trial's parameters (a W&B grid
# may hold NaN as a value, and the trial must receive the float NaN, as W&B passes it).
EXACT_FIELDS = frozenset({"params"})
_TAG = "__float__"


def tag_nonfinite(value: Any) -> Any:
    """The value with each non-finite float replaced by {"__float__": "nan" | "inf" | "-inf"}, reversible exactly."""
    if isinstance(value, float):
        return value if math.isfinite(value) else {_TAG: metric_json(value)}
    if isinstance(value, Mapping):
        return {k: tag_nonfinite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tag_nonfinite(v) for v in value]
    return value


def untag_nonfinite(value: Any) -> Any:
    """The inverse of tag_nonfinite."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get(_TAG), str):
            return float(value[_TAG])
        return {k: untag_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [untag_nonfinite(v) for v in value]
    return value


def dumps_exact(value: Any) -> str:
    """Strict JSON in which non-finite floats are tagged (see tag_nonfinite) rather than turned into strings."""
    try:
        return _encode(value)
    except ValueError:
        return _encode(tag_nonfinite(value))


def loads_exact(text: str) -> Any:
    """The inverse of dumps_exact; the walk happens only when a tag is present."""
    value = json.loads(text)
    return untag_nonfinite(value) if _TAG in text else value


def encode_fields(fields: Mapping[str, Any]) -> dict[Any, Any]:
    """A hash's fields with each value as JSON text."""
    return {k: dumps_exact(v) if k in EXACT_FIELDS else dumps(v) for k, v in fields.items()}


def decode_fields(raw: Mapping[bytes | str, bytes | str]) -> dict[str, Any]:
    """The inverse of encode_fields; a field that is not JSON (written by hand) is kept as text."""
    out: dict[str, Any] = {}
    for k, v in raw.items():
        key = k.decode() if isinstance(k, bytes) else k
        text = v.decode() if isinstance(v, bytes) else v
        try:
            out[key] = loads_exact(text) if key in EXACT_FIELDS else json.loads(text)
        except ValueError:
            out[key] = text
    return out
