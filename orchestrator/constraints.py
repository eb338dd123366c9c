"""Outcome constraints (pure): bounds on reported metrics that decide whether a finished trial is feasible.

A constraint `{metric: latency_ms, max: 50}` holds when the trial's final value of latency_ms is at most 50.
A finished trial that never reported a constrained metric is infeasible (it proved nothing); an unfinished one is
undecided. Violations follow Optuna's convention (<= 0 is satisfied), so samplers learn how far off a trial was.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.store.codec import metric_float

FINISHED_WITH_RESULT = ("completed", "stopped")
MISSING_VIOLATION = 1.0  # what a sampler is told for a constrained metric the trial never reported


def _bound(c: Mapping[str, Any] | Any, key: str) -> float | None:
    v = c.get(key) if isinstance(c, Mapping) else getattr(c, key, None)
    return None if v is None else float(v)


def _name(c: Mapping[str, Any] | Any) -> str:
    return str(c.get("metric") if isinstance(c, Mapping) else c.metric)


def violation(c: Mapping[str, Any] | Any, value: float | None) -> float:
    """How far the value breaks the constraint (<= 0: satisfied); MISSING_VIOLATION when there is no value."""
    if value is None or math.isnan(value):
        return MISSING_VIOLATION
    lo, hi = _bound(c, "min"), _bound(c, "max")
    parts = [value - hi if hi is not None else -math.inf, lo - value if lo is not None else -math.inf]
    return max(parts)


def violations(constraints: Sequence[Any], rec: Mapping[str, Any]) -> tuple[float, ...]:
    """Each constraint's violation for a trial record, from its final metrics (finite, so samplers can model them)."""
    finals = rec.get("final_metrics") or {}
    out = []
    for c in constraints:
        v = violation(c, metric_float(finals.get(_name(c))))
        out.append(min(max(v, -1e300), 1e300))
    return tuple(out)


def feasible(constraints: Sequence[Any], rec: Mapping[str, Any]) -> bool | None:
    """True or False for a finished trial of a constrained sweep; None when unconstrained or not yet decided."""
    if not constraints:
        return None
    status = rec.get("status")
    if status not in FINISHED_WITH_RESULT:
        return False if status in ("failed", "canceled") else None
    return all(v <= 0 for v in violations(constraints, rec))
