"""A population member's parameter schedule (pure: no I/O), shared by `Sweep.best_trial()` and the dashboard so
the two always agree."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

CHAIN_LIMIT = 10_000  # a chain is never followed further (a corrupt ledger could make a cycle)
Record = Mapping[str, Any]


def chain(
    number: int, record_of: Callable[[int], Record | None], first_step: Callable[[int], int | None]
) -> list[dict[str, Any]]:
    """A member's parameter schedule: its ancestors and itself, oldest first, each as {trial, params, from_step}
    (`from_step`: the member's first report of attempt 1; the parent's checkpoint was one step before)."""
    out: list[dict[str, Any]] = []
    record = record_of(number)
    while record is not None and len(out) < CHAIN_LIMIT:
        n = int(record["number"])
        out.append({"trial": record["number"], "params": record.get("params"), "from_step": first_step(n)})
        parent = (record.get("lineage") or {}).get("parent")
        record = None if parent is None else record_of(int(parent))
    return out[::-1]
