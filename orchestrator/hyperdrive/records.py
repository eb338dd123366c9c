"""The channel for what a script logs besides numbers: one JSON line per call in `<trial dir>/.sweepq/run.jsonl`.

Numbers go to the metric stream (early termination and the dashboard see them); strings, booleans, lists, rows,
tables, images, tags and properties are appended here by the script's `Run.get_context()`, folded by the worker
into the trial's ledger record when the trial ends (`logged`), and read back by `Run.get_metrics()` and friends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

RECORDS = Path(".sweepq") / "run.jsonl"
KINDS = ("values", "lists", "rows", "tables", "images", "tags", "properties")


def append(trial_dir: Path, record: Mapping[str, Any]) -> None:
    """Add one record (kind, name, value) to the trial's record file."""
    path = trial_dir / RECORDS
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, default=str) + "\n")


def fold(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Records folded by kind: repeated values, list items, rows and table columns accumulate in order."""
    out: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
    for r in records:
        kind, name, value = r.get("kind"), str(r.get("name")), r.get("value")
        if kind in ("value", "image"):
            out[f"{kind}s"].setdefault(name, []).append(value)
        elif kind == "list":
            out["lists"].setdefault(name, []).extend(value if isinstance(value, list) else [value])
        elif kind == "row":
            out["rows"].setdefault(name, []).append(value)
        elif kind == "table" and isinstance(value, Mapping):
            table = out["tables"].setdefault(name, {})
            for column, cells in value.items():
                table.setdefault(str(column), []).extend(cells if isinstance(cells, list) else [cells])
        elif kind in ("tag", "property") and isinstance(value, Mapping):
            out["tags" if kind == "tag" else "properties"].update(value)
    return {kind: entries for kind, entries in out.items() if entries}


def read_records(trial_dir: Path) -> dict[str, Any] | None:
    """The trial's folded records, or None when it has none (a malformed line is skipped, not fatal)."""
    path = trial_dir / RECORDS
    if not path.is_file():
        return None
    records = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return fold(records) or None


def as_metrics(logged: Mapping[str, Any]) -> dict[str, Any]:
    """The logged records as HyperDrive's get_metrics() shows them: one value or a list when repeated, lists as
    lists, rows and tables as {column: values}, images as their file name."""
    metrics: dict[str, Any] = {}
    for kind in ("values", "images"):
        for name, values in logged.get(kind, {}).items():
            metrics[name] = values[0] if len(values) == 1 else values
    metrics.update({name: list(values) for name, values in logged.get("lists", {}).items()})
    for name, rows in logged.get("rows", {}).items():
        columns: dict[str, list[Any]] = {}
        for row in rows:
            for column, cell in row.items():
                columns.setdefault(column, []).append(cell)
        metrics[name] = {c: v[0] if len(rows) == 1 else v for c, v in columns.items()}
    metrics.update({name: dict(table) for name, table in logged.get("tables", {}).items()})
    return metrics
