"""The metric stream of a sweep: one entry per report (trial, attempt, step, values, time).

Writing a report is one pipelined round trip that also updates the trial's last/best values in the ledger,
extends its lease and reads its stop flag, so reporting doubles as the stop channel (DESIGN §6).
"""

from __future__ import annotations

import hashlib
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
    seq: int | None = None  # the report's number within its attempt (absent in entries older than fencing)


# KEYS: stream, trial, lease, stop. ARGV: maxlen, lease ms, owner, attempt (JSON), seq, n entry fields, entry
# field/value pairs, then trial field/value pairs. One command instead of a pipeline: the same single round trip,
# a third of the client-side cost (reporting is the hot path of a sweep). Fenced: only the trial's running attempt
# (and the lease's owner) writes; a lease that ran out while Redis was away is taken again by that attempt. Each
# report carries the attempt's sequence number, so one re-sent after a timeout lands once.
# Returns {code, stop reason or ''}: code 1 = written, 2 = duplicate (already written), 0 = lost (not the owner).
_REPORT = """
if redis.call('HGET', KEYS[2], 'status') ~= '"running"' or redis.call('HGET', KEYS[2], 'attempt') ~= ARGV[4] then
  return {0, ''}
end
local holder = redis.call('GET', KEYS[3])
if holder and holder ~= ARGV[3] then return {0, ''} end
local stop = redis.call('GET', KEYS[4]) or ''
local attempt, seq = tonumber(ARGV[4]), tonumber(ARGV[5])
local seen = redis.call('HGET', KEYS[2], 'report_seq')
if seen then
  local t = cjson.decode(seen)
  if t[1] == attempt and t[2] >= seq then return {2, stop} end
end
if holder then redis.call('PEXPIRE', KEYS[3], ARGV[2]) else redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[2]) end
local n = tonumber(ARGV[6])
local entry = {}
for i = 7, 6 + 2 * n do entry[#entry + 1] = ARGV[i] end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(entry))
for i = 7 + 2 * n, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], 'report_seq', '[' .. ARGV[4] .. ',' .. ARGV[5] .. ']')
return {1, stop}
"""


_REPORT_SHA = hashlib.sha1(_REPORT.encode()).hexdigest()
WRITTEN, DUPLICATE, LOST = 1, 2, 0
_BROKEN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class ReportWriter:
    """Appends reports of one trial attempt; one EVALSHA per report (see _REPORT) on a connection it holds.

    Sending on a held connection skips redis-py's per-command machinery, which costs more CPU than the command
    itself. A connection that broke is replaced once at once (an idle connection the server dropped); a second
    failure is raised, and the caller rides out the outage (the write is idempotent by its sequence number).
    """

    def __init__(
        self, client: redis.Redis, keys: Keys, sweep_id: str, *, maxlen: int, lease_s: float, owner: str = ""
    ) -> None:
        self.client, self.keys, self.sweep_id = client, keys, sweep_id
        self.maxlen, self.lease_ms, self.owner = maxlen, int(lease_s * 1000), owner
        self._conn: Any = None

    def _eval(self, keys: list[str], args: list[Any], fresh: bool = False) -> Any:
        try:
            if self._conn is None:
                self._conn = self.client.connection_pool.get_connection()
            self._conn.send_command("EVALSHA", _REPORT_SHA, len(keys), *keys, *args)
            return self._conn.read_response()
        except redis.exceptions.NoScriptError:
            self.client.script_load(_REPORT)  # a fresh, restarted or flushed server: load once, then as before
            return self._eval(keys, args, fresh)
        except _BROKEN:
            self.close(broken=True)
            if fresh:
                raise
            return self._eval(keys, args, fresh=True)

    def close(self, broken: bool = False) -> None:
        """Give the held connection back to the pool (disconnected first if it failed)."""
        if self._conn is not None:
            if broken:
                self._conn.disconnect()
            self.client.connection_pool.release(self._conn)
            self._conn = None

    def append(self, report: Report, trial_fields: Mapping[str, Any], seq: int) -> tuple[int, str | None]:
        """Append report number `seq` of its attempt, update the trial record and lease.

        Returns (WRITTEN | DUPLICATE | LOST, the stop reason if one was requested).
        """
        entry = [
            "trial", str(report.trial), "attempt", str(report.attempt), "step", str(report.step),
            "values", dumps({k: metric_json(float(v)) for k, v in report.values.items()}), "t", repr(report.time),
            "seq", str(seq),
        ]
        args: list[Any] = [self.maxlen, self.lease_ms, self.owner, dumps(report.attempt), seq, len(entry) // 2, *entry]
        for k, v in encode_fields(trial_fields).items():
            args += [k, v]
        n, k = report.trial, self.keys
        keys = [k.metrics(self.sweep_id), k.trial(self.sweep_id, n), k.lease(self.sweep_id, n), k.stop(self.sweep_id, n)]
        code, stop = self._eval(keys, args)
        return int(code), (_text(stop) or None)


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
        seq=int(f["seq"]) if "seq" in f else None,
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
