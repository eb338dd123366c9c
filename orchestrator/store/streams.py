"""The metric stream of a sweep: one entry per report (trial, attempt, step, values, time).

Writing a report is one pipelined round trip that also updates the trial's last/best values in the ledger,
extends its lease and reads its stop flag, so reporting doubles as the stop channel (DESIGN §6).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

from orchestrator.store.codec import dumps, encode_fields, metric_json
from orchestrator.store.keys import Keys


@dataclass(frozen=True)
class Report:
    """One stream entry, decoded."""

    entry_id: str
    trial: int
    attempt: int
    step: int
    values: dict[str, Any]
    time: float


def append_report(
    client: redis.Redis,
    keys: Keys,
    sweep_id: str,
    report: Report,
    trial_fields: Mapping[str, Any],
    *,
    maxlen: int,
    lease_s: float,
) -> str | None:
    """Append a report, update the trial record and lease; returns the stop reason if one was requested."""
    entry = {
        "trial": str(report.trial),
        "attempt": str(report.attempt),
        "step": str(report.step),
        "values": dumps({k: metric_json(float(v)) for k, v in report.values.items()}),
        "t": repr(report.time),
    }
    pipe = client.pipeline(transaction=False)
    pipe.xadd(keys.metrics(sweep_id), entry, maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
    if trial_fields:
        pipe.hset(keys.trial(sweep_id, report.trial), mapping=encode_fields(trial_fields))
    pipe.pexpire(keys.lease(sweep_id, report.trial), int(lease_s * 1000))
    pipe.get(keys.stop(sweep_id, report.trial))
    stop = pipe.execute()[-1]
    return stop.decode() if stop is not None else None


def decode_entry(entry_id: bytes | str, fields: Mapping[Any, Any]) -> Report:
    """A raw stream entry as a Report."""
    f = {_text(k): _text(v) for k, v in fields.items()}
    return Report(
        entry_id=entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
        trial=int(f["trial"]),
        attempt=int(f.get("attempt", "1")),
        step=int(f["step"]),
        values=json.loads(f["values"]),
        time=float(f["t"]),
    )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def read_reports(client: redis.Redis, keys: Keys, sweep_id: str, trial: int | None = None) -> list[Report]:
    """Every report still in a sweep's stream (optionally of one trial), oldest first."""
    out: list[Report] = []
    start = "-"
    while True:
        batch: Any = client.xrange(keys.metrics(sweep_id), min=start, max="+", count=5000)
        for entry_id, fields in batch:
            report = decode_entry(entry_id, fields)
            if trial is None or report.trial == trial:
                out.append(report)
        if len(batch) < 5000:
            return out
        start = "(" + _text(batch[-1][0])
