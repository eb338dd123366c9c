"""The metric stream of a sweep: one entry per report (trial, attempt, step, values, time), and the curves
its applied entries are compacted into.

Writing a report is one pipelined round trip that also updates the trial's last/best values in the ledger,
extends its lease and reads its stop flag, so reporting doubles as the stop channel (DESIGN §6). The stream has
no cap: the evaluator moves each batch it applied into per-trial curves as it acknowledges it (`commit`) and
trims the stream only below that point, so every report stays readable (`read_reports`: curves plus the tail).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from orchestrator.store.codec import dumps, encode_fields, metric_json
from orchestrator.store.connection import HeldConnection, pack
from orchestrator.store.keys import Keys
from orchestrator.store.overlap import Call, batches, overlapped


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


# KEYS: stream, trial, lease, stop. ARGV: unused (was the stream's cap), lease ms, owner, attempt (JSON), seq,
# n entry fields, entry field/value pairs, then trial field/value pairs. One command instead of a pipeline: the same
# single round trip, a third of the client-side cost (reporting is the hot path of a sweep). Fenced: only the
# trial's running attempt (and the lease's owner) writes; a lease that ran out while Redis was away is taken again by
# that attempt. Each report carries the attempt's sequence number, so one re-sent after a timeout lands once.
# Returns {code, stop reason or ''}: code 1 = written, 2 = duplicate (already written), 0 = lost (not the owner).
# One HMGET and one HSET rather than a call per field: each call from a script costs about as much as the command.
_REPORT = """
local cur = redis.call('HMGET', KEYS[2], 'status', 'attempt', 'report_seq')
if cur[1] ~= '"running"' or cur[2] ~= ARGV[4] then return {0, ''} end
local holder = redis.call('GET', KEYS[3])
if holder and holder ~= ARGV[3] then return {0, ''} end
local stop = redis.call('GET', KEYS[4]) or ''
if cur[3] then
  local a, s = string.match(cur[3], '^%[(%d+),(%d+)%]$')
  if tonumber(a) == tonumber(ARGV[4]) and tonumber(s) >= tonumber(ARGV[5]) then return {2, stop} end
end
if holder then redis.call('PEXPIRE', KEYS[3], ARGV[2]) else redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[2]) end
local n = tonumber(ARGV[6])
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 7, 6 + 2 * n))
redis.call('HSET', KEYS[2], 'report_seq', '[' .. ARGV[4] .. ',' .. ARGV[5] .. ']', unpack(ARGV, 7 + 2 * n))
return {1, stop}
"""


_REPORT_SHA = hashlib.sha1(_REPORT.encode()).hexdigest()
WRITTEN, DUPLICATE, LOST = 1, 2, 0


class ReportWriter:
    """Appends reports of one trial attempt; one EVALSHA per report (see _REPORT) on a connection it holds
    (HeldConnection: redis-py's per-command machinery costs more CPU than the command itself). A failure is raised,
    and the caller rides out the outage (the write is idempotent by its sequence number). The stream has no cap:
    it is trimmed only past what the evaluator compacted.
    """

    def __init__(
        self, client: redis.Redis, keys: Keys, sweep_id: str, *, lease_s: float, owner: str = ""
    ) -> None:
        self.client, self.keys, self.sweep_id = client, keys, sweep_id
        self.lease_ms, self.owner = int(lease_s * 1000), owner
        self._held = HeldConnection(client)
        self._keys: tuple[int, list[str]] | None = None  # (trial, its four keys): a writer serves one trial

    def close(self) -> None:
        """Give the held connection back to the pool."""
        self._held.close()

    def append(self, report: Report, trial_fields: Mapping[str, Any], seq: int) -> tuple[int, str | None]:
        """Append report number `seq` of its attempt, update the trial record and lease.

        Returns (WRITTEN | DUPLICATE | LOST, the stop reason if one was requested).
        """
        return self.send(self.pack(report, trial_fields, seq))

    def pack(self, report: Report, trial_fields: Mapping[str, Any], seq: int) -> bytes:
        """The report's script call, packed: a re-send after an outage sends the same bytes (it lands once)."""
        values = dumps({k: metric_json(float(v)) for k, v in report.values.items()})
        args: list[Any] = [
            "EVALSHA", _REPORT_SHA, 4, *self._trial_keys(report.trial), 0, self.lease_ms, self.owner,
            dumps(report.attempt), seq, 6, "trial", report.trial, "attempt", report.attempt, "step", report.step,
            "values", values, "t", repr(report.time), "seq", seq,
        ]
        for k, v in encode_fields(trial_fields).items():
            args += [k, v]
        return pack(*args)

    def send(self, packed: bytes) -> tuple[int, str | None]:
        """Send a packed report (see pack): (WRITTEN | DUPLICATE | LOST, the stop reason if one was requested)."""
        code, stop = self._held.call(packed, _REPORT)
        return int(code), (_text(stop) or None)

    def _trial_keys(self, n: int) -> list[str]:
        if self._keys is None or self._keys[0] != n:
            k, sweep = self.keys, self.sweep_id
            self._keys = (n, [k.metrics(sweep), k.trial(sweep, n), k.lease(sweep, n), k.stop(sweep, n)])
        return self._keys[1]


def text_entries(entries: Any) -> list[tuple[str, dict[str, str]]]:
    """Stream entries as Redis returns them (bytes) as text, once for every reader of a batch."""
    try:
        return [(i.decode(), {k.decode(): v.decode() for k, v in f.items()}) for i, f in entries]
    except AttributeError:  # already text (a client that decodes its replies)
        return [(_text(i), text_fields(f)) for i, f in entries]


def text_fields(fields: Mapping[Any, Any]) -> dict[str, str]:
    """An entry's fields as text; fields already decoded (see text_entries: str names) are returned as they are."""
    if isinstance(fields, dict) and type(next(iter(fields), "")) is str:
        return fields
    return {_text(k): _text(v) for k, v in fields.items()}


def decode_entry(entry_id: bytes | str, fields: Mapping[Any, Any]) -> Report:
    """A stream entry (raw or text) as a Report."""
    f = text_fields(fields)
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


def entry_key(raw: str) -> tuple[int, int]:
    """A stream entry id as a sortable (milliseconds, sequence) pair."""
    ms, _, seq = raw.partition("-")
    return int(ms), int(seq or 0)


def after(raw: str) -> str:
    """The smallest entry id greater than `raw` (XTRIM MINID keeps ids at or above it)."""
    ms, seq = entry_key(raw)
    return f"{ms}-{seq + 1}"


def compact_element(entry_id: str, fields: Mapping[str, str]) -> str:
    """One report as its curve keeps it: `id|attempt|seq|step|time|values JSON` (the values stay as written)."""
    head = f"{entry_id}|{fields.get('attempt', '1')}|{fields.get('seq', '')}"
    return f"{head}|{fields['step']}|{fields['t']}|{fields['values']}"


def expand_element(trial: int, element: str) -> tuple[str, dict[str, str]]:
    """A curve element back in the stream entry's shape (id, fields), for decode_entry and the evaluator."""
    entry_id, attempt, seq, step, t, values = element.split("|", 5)
    fields = {"trial": str(trial), "attempt": attempt, "step": step, "values": values, "t": t}
    return entry_id, fields | ({"seq": seq} if seq else {})


def stream_tail(client: redis.Redis, key: str, trial: int | None = None) -> dict[str, dict[str, str]]:
    """What is left in a stream (optionally of one trial), as entries by id."""
    out: dict[str, dict[str, str]] = {}
    start = "-"
    while True:
        batch: Any = client.xrange(key, min=start, max="+", count=5000)
        for raw_id, raw in batch:
            fields = {_text(k): _text(v) for k, v in raw.items()}
            if trial is None or int(fields["trial"]) == trial:
                out[_text(raw_id)] = fields
        if len(batch) < 5000:
            return out
        start = "(" + _text(batch[-1][0])


_LRANGE_MANY = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('LRANGE', key, 0, -1) end
return out
"""


def curve_call(keys: Keys, sweep_id: str, numbers: Sequence[int]) -> Call:
    """The script call that reads these trials' compacted curves (one list of elements per trial, in order)."""
    return Call(_LRANGE_MANY, [keys.curve(sweep_id, n) for n in numbers])


def raw_curves(client: redis.Redis, keys: Keys, sweep_id: str, numbers: list[int]) -> Iterator[tuple[int, list[bytes]]]:
    """Each of these trials' compacted curve as stored (`id|attempt|seq|step|time|values` elements), in one script
    call per 1,000 trials, all sent at once: no command is packed or parsed per trial, and Redis reads the next
    thousand while the caller takes these."""
    chunks = batches(numbers)
    for chunk, replies in zip(chunks, overlapped(client, [curve_call(keys, sweep_id, c) for c in chunks]), strict=True):
        yield from zip(chunk, replies, strict=True)


def curve_entries(client: redis.Redis, keys: Keys, sweep_id: str, numbers: list[int]) -> dict[str, dict[str, str]]:
    """The compacted reports of these trials, as stream entries by id."""
    out: dict[str, dict[str, str]] = {}
    for n, elements in raw_curves(client, keys, sweep_id, numbers):
        out.update(expand_element(n, _text(e)) for e in elements)
    return out


def merged(curves: Mapping[str, Mapping[str, str]], tail: Mapping[str, Mapping[str, str]]) -> list[tuple[str, Any]]:
    """Curves and stream entries as one list of (id, fields), oldest first, each entry once."""
    entries = {**curves, **tail}
    return sorted(entries.items(), key=lambda kv: entry_key(kv[0]))


def read_reports(client: redis.Redis, keys: Keys, sweep_id: str, trial: int | None = None) -> list[Report]:
    """Every report of a sweep (optionally of one trial), oldest first: its compacted curves plus the stream's tail.

    The tail is read first: an entry trimmed meanwhile had been compacted before, so the curves read next hold
    it (no gap); an entry in both is kept once (no duplicate).
    """
    tail = stream_tail(client, keys.metrics(sweep_id), trial)
    numbers = [trial] if trial is not None else [int(_text(n)) for n in client.zrange(keys.trial_numbers(sweep_id), 0, -1)]
    return [decode_entry(i, f) for i, f in merged(curve_entries(client, keys, sweep_id, numbers), tail)]


# KEYS: stream, continue-decision counter, then one curve key per entry. ARGV: group, trim point (MINID), continue
# decisions to count, tail kept (ms), then per entry: id, curve element. An entry still pending in the group is
# acknowledged and appended to its trial's curve in the same step, so a report is in its curve exactly when it is
# acknowledged (a batch applied again adds nothing twice), and the batch's continue decisions are counted once. Then
# the stream is
# trimmed below the trim point, never past an entry still pending (one a dead evaluator read) nor into the last
# `tail` ms of reports (live readers poll the tail only). Returns the count of entries acknowledged now.
_COMPACT = """
local function before(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local acked = 0
for i = 5, #ARGV, 2 do
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[(i - 5) / 2 + 3], ARGV[i + 1])
    acked = acked + 1
  end
end
if acked > 0 and tonumber(ARGV[3]) > 0 then redis.call('INCRBY', KEYS[2], ARGV[3]) end
local minid = ARGV[2]
local now = redis.call('TIME')
local recent = string.format('%d-0', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[4]))
if before(recent, minid) then minid = recent end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
if pending[1] > 0 and before(pending[2], minid) then minid = pending[2] end
redis.call('XTRIM', KEYS[1], 'MINID', '~', minid)
return acked
"""


_COMPACT_SHA = hashlib.sha1(_COMPACT.encode()).hexdigest()


def commit(
    client: redis.Redis, keys: Keys, sweep_id: str, group: str, entries: Any, *, trim_to: str, continues: int = 0,
    tail_s: float = 0.0, writes: Callable[[Any], None] | None = None, reload: Callable[[], None] | None = None,
) -> int:
    """Acknowledge applied stream entries, compact them into their trials' curves, count the batch's continue
    decisions and trim the stream below `trim_to` (keeping the last `tail_s` seconds): one script call (one round
    trip) per batch, after the batch's own `writes` (its decisions and stops) queued on the same pipeline, so they
    land before the entries are acknowledged; `reload` loads the scripts those writes call by EVALSHA, after a
    server lost them. Returns how many entries were acknowledged now (0 when a batch had been committed before)."""
    curve_keys: list[str] = []
    args: list[Any] = [group, trim_to, continues, int(tail_s * 1000)]
    for raw_id, raw in entries:
        fields, rid = text_fields(raw), _text(raw_id)
        curve_keys.append(keys.curve(sweep_id, int(fields["trial"])))
        args += [rid, compact_element(rid, fields)]
    all_keys = [keys.metrics(sweep_id), keys.continues(sweep_id), *curve_keys]

    def send() -> int:  # by EVALSHA on the pipeline: a registered script there costs a SCRIPT EXISTS per batch
        pipe = client.pipeline(transaction=False)
        if writes is not None:
            writes(pipe)
        pipe.evalsha(_COMPACT_SHA, len(all_keys), *all_keys, *args)
        return int(pipe.execute()[-1])

    try:
        return send()
    except redis.exceptions.NoScriptError:  # a restarted or flushed server: load, send again (each write is idempotent)
        client.script_load(_COMPACT)
        if reload is not None:
            reload()
        return send()


def adopt(client: redis.Redis, keys: Keys, sweep_id: str, entries: Any) -> None:
    """Append to their curves entries that were acknowledged before compaction existed (a stream an older sweepq
    evaluated), so trimming it loses none of them: one pipelined round trip, once, on an evaluator's rebuild."""
    pipe = client.pipeline(transaction=False)
    for raw_id, raw in entries:
        fields = text_fields(raw)
        pipe.rpush(keys.curve(sweep_id, int(fields["trial"])), compact_element(_text(raw_id), fields))
    pipe.execute()


def trimmed_after(client: redis.Redis, key: str, last_id: str) -> bool:
    """Whether entries after `last_id` may have left the stream (compacted): an incremental reader then reads
    `entries_after` once instead of the tail alone. O(1): the stream's first entry."""
    try:
        info: Any = client.xinfo_stream(key)
    except redis.ResponseError:  # no stream yet: nothing reported, nothing compacted
        return False
    first = info.get("first-entry")
    oldest = _text(first[0]) if first else after(_text(info["last-generated-id"]))
    return entry_key(oldest) > entry_key(after(last_id))


def entries_after(client: redis.Redis, keys: Keys, sweep_id: str, last_id: str) -> list[tuple[str, Any]]:
    """Every report after `last_id` from the curves and the stream's tail (read first: no gap), oldest first."""
    tail = stream_tail(client, keys.metrics(sweep_id))
    numbers = [int(_text(n)) for n in client.zrange(keys.trial_numbers(sweep_id), 0, -1)]
    newer = entry_key(last_id)
    return [(i, f) for i, f in merged(curve_entries(client, keys, sweep_id, numbers), tail) if entry_key(i) > newer]
