"""Per-trial working directories, as HyperDrive gives each child run its own snapshot with its own `./outputs`,
and the worker's half of the channel HyperDrive scripts log through (orchestrator/hyperdrive/records.py).

The trial's persistent output directory (`<artifact_root>/<sweep>/trial-<n>`) becomes its working directory: each
top-level entry of the source directory is linked into it (an overlay, not a copy, so a large data folder costs
nothing), and `outputs/` is a real, empty folder of the trial's own. Two trials writing `./outputs/model.pkl`
write two files. A resumed trial's checkpoint is its earlier run's `outputs/`, as HyperDrive's `--resume-from`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path
from typing import Any

from workers.runners.base import TrialContext

JSON_PREFIX = "sweepq-json:"  # a stdout line `sweepq-json: {"metrics": {"any name": 0.5}, "step": 3}` is a report

OUTPUTS = "outputs"
RESERVED = frozenset({OUTPUTS, "logs", "output.log", "params.json", ".sweepq"})  # the trial's own, never linked


def prepare(trial_dir: Path, source: str | os.PathLike[str] | None) -> Path:
    """Make `trial_dir` the trial's working directory overlaying `source`; returns the directory to run in."""
    trial_dir.mkdir(parents=True, exist_ok=True)
    (trial_dir / OUTPUTS).mkdir(exist_ok=True)
    (trial_dir / ".sweepq" / "run.jsonl").unlink(missing_ok=True)  # a retried attempt logs afresh, as its metrics
    if source is None:
        return trial_dir
    root = Path(source).resolve()
    for entry in sorted(root.iterdir()):
        link = trial_dir / entry.name
        if entry.name in RESERVED or link.exists() or link.is_symlink():
            continue
        with contextlib.suppress(FileExistsError):  # a retried attempt already linked it
            link.symlink_to(entry, target_is_directory=entry.is_dir())
    return trial_dir


def checkpoint(resume_from: str) -> str:
    """The folder a resumed trial reads its checkpoint from: the earlier run's `outputs/` when it has one."""
    outputs = Path(resume_from) / OUTPUTS
    return str(outputs) if outputs.is_dir() else resume_from



def json_metrics(text: str) -> tuple[dict[str, float], int | None] | None:
    """The metrics and step of a `sweepq-json:` line (prefix removed): every numeric value, any name; else None."""
    try:
        doc: Any = json.loads(text)
    except ValueError:
        return None
    values = doc.get("metrics") if isinstance(doc, dict) else None
    if not isinstance(values, dict):
        return None
    metrics = {str(k): float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    step = doc.get("step")
    step = int(step) if isinstance(step, (int, float)) and not isinstance(step, bool) and math.isfinite(step) else None
    return (metrics, step) if metrics else None


def record_logged(ctx: TrialContext) -> None:
    """Copy what the script logged besides numbers into the trial's ledger record (`logged`), once, at its end."""
    logged = collect(ctx.output_dir)
    if logged:
        ctx.record({"logged": logged})


def collect(trial_dir: Path) -> dict[str, object] | None:
    """What the script logged besides numbers (Run.get_context(): strings, lists, rows, tables, images, tags,
    properties), folded from its record file, for the trial's ledger record; None when it logged none."""
    from orchestrator.hyperdrive.records import read_records

    return read_records(trial_dir)
