"""The live dashboard's view of a sweep, kept current by reading only what changed since the last poll.

A poll reads the sweep's document (O(1)), the trials created since the last poll, the trials not yet finished (a
finished trial never changes again), the metric stream's entries after the last id it read, and the decisions
only when their count moved. So a poll costs what changed plus what is in flight, not the sweep's history; the
first poll of a sweep reads it whole once. Each change bumps the sweep's version: a browser that sends the
version it has gets "unchanged" back, else the page rebuilt from memory (charts downsampled, rows paged apart).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING, Any

from orchestrator.client import TRIAL_FIELDS
from orchestrator.dashboard.payload import FINAL, SweepData, build, elapsed, images_of, ordered, table_page, weights
from orchestrator.ranking import RANKED
from orchestrator.store.overlap import batches, overlapped
from orchestrator.store.streams import curve_call, entries_after, entry_key, trimmed_after

if TYPE_CHECKING:
    import redis

    from orchestrator.client import Sweep, SweepClient

STREAM_BATCH = 5000
IMPORTANCE_GROWTH = 1.1  # importances are computed again once the finished trials grew by a tenth
KEPT_SWEEPS = 8  # sweeps held in memory at once (the least recently viewed is dropped)


@cache
def _pool() -> ThreadPoolExecutor:
    """The one background thread that computes importances (made on first use, not at import)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweepq-importance")


class LiveSweep:
    """One sweep's page data, refreshed incrementally; `version` names its state."""

    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep
        self.data = SweepData(status=sweep.status(), spec=sweep.spec)
        self.workdirs = bool(getattr(self.data.spec.trial, "per_trial_workdir", False))
        shown = [f for f in TRIAL_FIELDS if f not in ("id", "log_tail")]  # a log tail can be long; the page omits it
        self.fields = [*shown, "logged"] if self.workdirs else shown
        self.last_id = "0-0"
        self.highest = -1  # the highest trial number read
        self.open: set[int] = set()  # trials read before they finished: read again each poll
        self.boot = uuid.uuid4().hex[:8]  # a restarted dashboard never answers "unchanged" to an old version
        self.changes = 0
        self.importance: dict[str, float] = {}
        self.importance_at = 0  # finished trials when importances were last computed
        self._pending: Future[dict[str, float]] | None = None
        self._sorted: dict[tuple[str, str, bool], tuple[str, list[Any]]] = {}
        self._built: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[str, dict[str, Any]]] = {}
        self.refresh(first=True)

    @property
    def version(self) -> str:
        return f"{self.boot}-{self.changes}"

    def refresh(self, first: bool = False) -> bool:
        """Read what changed since the last poll; True if anything did (the version moved)."""
        ledger, sid = self.sweep.client.ledger, self.sweep.id
        changed = first
        self.data.status = self.sweep.status()  # its counts move every second: shown, but no reason to redraw
        if first:
            self._read_all()
        else:
            numbers = sorted(self.open | set(ledger.trial_numbers_after(sid, self.highest)))
            if numbers:
                changed = self._read_trials(numbers) or changed
            changed = self._read_stream() or changed
        count, counted = int(ledger.r.hlen(ledger.keys.decisions(sid))), self.sweep.continues_counted()
        if count != self.data.decision_count:
            self.data.set_decisions(self.sweep.decisions())
            changed = True
        if counted != self.data.continues_counted:
            self.data.continues_counted, changed = counted, True
        if changed:
            self.changes += 1
            self._built.clear()
        return changed

    def _read_trials(self, numbers: Sequence[int]) -> bool:
        """Read trials again (those in flight and new ones); True if any row differs from what was held."""
        ledger, changed = self.sweep.client.ledger, False
        for chunk in batches(numbers):
            changed = self._take_rows(ledger.trial_fields(self.sweep.id, chunk, self.fields)) or changed
        return changed

    def _take_rows(self, records: Sequence[dict[str, Any]]) -> bool:
        """Trial records read from the ledger, held as table rows; True if any row differs from what was held."""
        changed = False
        for row, record in zip(self.sweep.rows(records, self.data.spec), records, strict=True):
            n = int(row["number"])
            row["images"] = images_of(record) if self.workdirs else []
            if self.data.rows.get(n) != row:
                self.data.rows[n], changed = row, True
            self.highest = max(self.highest, n)
            (self.open.discard if row["status"] in FINAL else self.open.add)(n)
        return changed

    def _read_stream(self) -> bool:
        """Take the metric stream's entries after the last one read; True if there were any."""
        r, key, read = self.sweep.client.ledger.r, self.sweep.client.ledger.keys.metrics(self.sweep.id), False
        if trimmed_after(r, key, self.last_id):  # reports after the last read were compacted meanwhile
            for entry_id, f in entries_after(r, self.sweep.client.ledger.keys, self.sweep.id, self.last_id):
                self.data.add_raw_report(int(f["trial"]), int(f.get("attempt", "1")), f["values"].encode(), f.get("step"))
                self.last_id, read = entry_id, True
        while True:
            batch = _xrange_raw(r, key, "(" + self.last_id, STREAM_BATCH)
            for _entry_id, fields in batch:
                trial, attempt, step, values = _report_fields(fields)
                self.data.add_raw_report(trial, attempt, values, step)
                read = True
            if batch:
                self.last_id = _text(batch[-1][0])
            if len(batch) < STREAM_BATCH:
                return read

    def _read_all(self) -> None:
        """The first read: the stream as it is (read first, so an entry trimmed meanwhile is in a curve), then
        every trial's record and compacted curve, their script calls sent at once (Redis reads the next thousand
        while these are decoded); per trial, the curve and then the stream's entries past it (each once)."""
        ledger, sid = self.sweep.client.ledger, self.sweep.id
        tail, start = [], "-"
        while True:
            batch = _xrange_raw(ledger.r, ledger.keys.metrics(sid), start, STREAM_BATCH)
            tail += batch
            if len(batch) < STREAM_BATCH:
                break
            start = "(" + _text(batch[-1][0])
        numbers = ledger.trial_numbers(sid)
        chunks = batches(numbers)
        replies = overlapped(ledger.r, [ledger.fields_call(sid, c, self.fields) for c in chunks]
                             + [curve_call(ledger.keys, sid, c) for c in chunks])
        for chunk in chunks:
            self._take_rows(ledger.fields_of(sid, chunk, self.fields, next(replies)))
        compacted: dict[int, tuple[int, int]] = {}  # each trial's last compacted entry
        for chunk in chunks:
            for n, elements in zip(chunk, next(replies), strict=True):
                if elements:
                    self.data.add_curve(n, elements)
                    last = _text(elements[-1].split(b"|", 1)[0])
                    compacted[n] = entry_key(last)
                    self.last_id = max(self.last_id, last, key=entry_key)
        for entry_id, fields in tail:
            trial, attempt, step, values = _report_fields(fields)
            if trial not in compacted or entry_key(_text(entry_id)) > compacted[trial]:
                self.data.add_raw_report(trial, attempt, values, step)
        if tail:
            self.last_id = max(self.last_id, _text(tail[-1][0]), key=entry_key)

    def _take_importances(self) -> None:
        """Importances computed in the background are taken in (the version moves: the page shows them)."""
        if self._pending is not None and self._pending.done():
            self.importance, self._pending = self._pending.result(), None
            self.changes += 1
            self._built.clear()

    def _start_importances(self) -> None:
        """fANOVA takes a while: it runs in a background thread on a copy of the rows, after the answer was built
        (not beside it), whenever the finished trials grew by a tenth."""
        finished = sum(1 for t in self.data.rows.values() if t["status"] in RANKED)
        grown = finished != self.importance_at and (finished >= self.importance_at * IMPORTANCE_GROWTH or finished < 50)
        if grown and self._pending is None:
            snapshot = SweepData(status=self.data.status, spec=self.data.spec, rows=dict(self.data.rows))
            self._pending, self.importance_at = _pool().submit(weights, snapshot), finished

    def payload(self, axes2: Sequence[str] = (), axes3: Sequence[str] = ()) -> dict[str, Any]:
        """The page (without rows) for these axes, built once per version."""
        key = (tuple(axes2), tuple(axes3))
        held = self._built.get(key)
        if held is None or held[0] != self.version:
            doc = build(self.data, axes2, axes3, self.importance, with_rows=False)
            held = self._built[key] = (self.version, doc | {"version": self.version})
        return held[1] | {"status": self.data.status, "elapsed": elapsed(self.data.status)}

    def poll(self, since: str = "", axes2: Sequence[str] = (), axes3: Sequence[str] = ()) -> dict[str, Any]:
        """What the browser needs after `since`: "unchanged" with the fresh status, or the rebuilt page."""
        self.refresh()
        self._take_importances()
        if since == self.version and (tuple(axes2), tuple(axes3)) in self._built:
            answer = {"version": self.version, "unchanged": True, "status": self.data.status,
                      "elapsed": elapsed(self.data.status)}
        else:
            answer = self.payload(axes2, axes3)
        self._start_importances()
        return answer

    def trials(self, offset: int, limit: int, sort: str, desc: bool) -> dict[str, Any]:
        """A page of the trials table; each order is sorted once per version (paging through it is a slice)."""
        key = ("table", sort, desc)
        held = self._sorted.get(key)
        if held is None or held[0] != self.version:
            held = self._sorted[key] = (self.version, ordered(self.data.rows.values(), sort, desc))
        return table_page(held[1], offset, limit, sort, desc, presorted=True) | {"version": self.version}


def _xrange_raw(r: redis.Redis, key: str, start: str, count: int) -> list[Any]:
    """XRANGE on a connection of the pool without redis-py's reply conversion (a list per entry, not a dict):
    the first view of a big sweep reads its whole stream, and the conversion cost more than the command."""
    conn: Any = r.connection_pool.get_connection()
    try:
        conn.send_command("XRANGE", key, start, "+", "COUNT", count)
        reply: list[Any] = conn.read_response()
    except BaseException:
        conn.disconnect()
        raise
    finally:
        r.connection_pool.release(conn)
    return reply or []


def _report_fields(fields: list[bytes]) -> tuple[int, int, bytes | None, bytes]:
    """trial, attempt, step (as written) and values (JSON) of a raw stream entry (field/value pairs as the report
    writer lays them out)."""
    if len(fields) >= 8 and fields[0] == b"trial" and fields[2] == b"attempt" and fields[6] == b"values":
        return int(fields[1]), int(fields[3]), fields[5] if fields[4] == b"step" else None, fields[7]
    f = dict(zip(fields[::2], fields[1::2], strict=True))
    return int(f[b"trial"]), int(f.get(b"attempt", b"1")), f.get(b"step"), f[b"values"]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class LiveSweeps:
    """The LiveSweep of each sweep being viewed (a few at once, least recently viewed dropped first)."""

    def __init__(self, client: SweepClient, kept: int = KEPT_SWEEPS) -> None:
        self.client, self.kept = client, kept
        self._held: OrderedDict[str, LiveSweep] = OrderedDict()

    def get(self, sweep_id: str) -> LiveSweep:
        """The sweep's live view (KeyError if there is no such sweep); the first call reads it whole."""
        live = self._held.pop(sweep_id, None) or LiveSweep(self.client.sweep(sweep_id))
        self._held[sweep_id] = live
        while len(self._held) > self.kept:
            self._held.popitem(last=False)
        return live
