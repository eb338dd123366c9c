"""The scheduler process: read the ledger, decide with orchestrator.scheduling, apply the commands.

Each sweep is led by one scheduler holding a lease on it (orchestrator.store.leadership), so several schedulers
share an installation's sweeps; a restarted one, or another one when a scheduler dies, takes a sweep over by
reloading it from Redis, so no trial is lost or started twice (trial numbers are allocated in the ledger before a
task is sent, and a re-sent task for a trial that already runs is dropped by the worker's lease).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import socket
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import redis
from celery import Celery

from orchestrator.ranking import Ranking
from orchestrator.runtime import SweepRuntime, to_record
from orchestrator.samplers import TrialRecord
from orchestrator.scheduling import (
    CancelQueued,
    Command,
    EndTrial,
    FinishSweep,
    RequestStop,
    RetryTrial,
    Revoke,
    StartMember,
    StartTrial,
    inbox_pace,
    step,
)
from orchestrator.settings import Settings
from orchestrator.spec import PythonTrial
from orchestrator.store.connection import OUTAGE_ERRORS, Outage, redis_client
from orchestrator.store.inbox import Inboxes
from orchestrator.store.keys import Keys
from orchestrator.store.leadership import SweepLeadership
from orchestrator.store.ledger import Ledger, text
from workers.app import create_app, publish_trial

log = logging.getLogger("sweepq.scheduler")
ACTIVE = ("pending", "running")
LINEAGE = (
    "parent", "replaces", "interval", "step", "parent_reports", "params_before", "params_after", "parent_params", "time",
)
FULL_TICK_SECONDS = 1.0


class Scheduler:
    """Drives every unfinished sweep; `run()` until `stop` is set."""

    def __init__(self, settings: Settings, app: Celery | None = None, client: redis.Redis | None = None) -> None:
        self.settings = settings
        self.client = client or redis_client(settings)
        self.ledger = Ledger(self.client, Keys(settings.key_prefix))
        self._app = app
        self.owner = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self.sweeps: dict[str, SweepRuntime] = {}
        self.lead = SweepLeadership(self.client, self.ledger.keys, "scheduler", self.owner,
                                    settings.scheduler_lock_seconds)
        self._renewed = -math.inf
        self._last_full = 0.0
        self._reap_after = 0.0  # after an outage, no lease is reaped before workers could renew theirs
        self.inboxes = Inboxes(self.client, self.ledger.keys)
        self._queued: dict[str, int] = {}  # per led sweep, its trials sent but not started (at the last full tick)
        self._took = 0.0  # when the inboxes were last read (see inbox_pace)

    @property
    def app(self) -> Celery:
        if self._app is None:
            self._app = create_app(self.settings)
        return self._app

    # -- loop ---------------------------------------------------------------------------------------------
    def run(self, stop: threading.Event | None = None) -> None:
        """Lead sweeps and step them until `stop`; a Redis outage is waited out (logged once), then every sweep is
        reloaded as a restarted scheduler would, and no lease is reaped until workers had a lease to renew."""
        stop = stop or threading.Event()
        outage = Outage(log, "scheduler")
        try:
            while not stop.is_set():
                try:
                    self._lead()
                    if outage.recovered():
                        self._reap_after = time.monotonic() + self.settings.lease_seconds
                    self._cycle()
                except OUTAGE_ERRORS as exc:
                    self._renewed = -math.inf
                    self.lead.forget()
                    self.sweeps.clear()
                    stop.wait(outage.failed(exc))
        finally:
            with contextlib.suppress(*OUTAGE_ERRORS):
                self.lead.release_all()

    def _cycle(self) -> None:
        changed = self._drain_inbox()
        now = time.monotonic()
        full = now - self._last_full >= FULL_TICK_SECONDS
        if full:
            self._last_full = now
        self.tick(changed, full)

    def _leases(self, sweep_id: str, running: list[int]) -> dict[int, bool]:
        """Which running trials hold a lease; right after an outage every one counts as held (see run())."""
        if time.monotonic() < self._reap_after:
            return dict.fromkeys(running, True)
        return self.ledger.lease_holders(sweep_id, running)

    def _lead(self) -> None:
        """Once a second: renew this scheduler's sweep leases and take its share of the free ones (loading each
        sweep gained, dropping each lost), so a dead scheduler's sweeps move here within its lease time."""
        now = time.monotonic()
        if now - self._renewed < FULL_TICK_SECONDS:
            return
        self._renewed = now
        active = [text(s) for s in self.client.smembers(self.ledger.keys.active)]
        gained, lost = self.lead.tick(active)
        for sweep_id in lost:
            if self.sweeps.pop(sweep_id, None) is not None:
                log.info("scheduler %s no longer leads sweep %s", self.owner, sweep_id)
        for sweep_id in sorted(gained):
            log.info("scheduler %s leads sweep %s", self.owner, sweep_id)
            self._load(sweep_id)

    def _drain_inbox(self) -> dict[str, set[int]]:
        """Take new-sweep announcements and the led sweeps' inbox messages (waiting briefly if there are none);
        returns the trials to re-read per sweep."""
        changed: dict[str, set[int]] = defaultdict(set)
        pause = self._took + inbox_pace([self._queued.get(s, 0) for s in self.sweeps]) - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self._took = time.monotonic()
        for raw in self.inboxes.take(list(self.sweeps), self.settings.scheduler_poll_seconds):
            self._message(text(raw), changed)
        return changed

    def _message(self, message: str, changed: dict[str, set[int]]) -> None:
        """Apply one inbox message. A message for a sweep led elsewhere (one left in the shared inbox by an older
        version) is forwarded to that sweep's inbox; a new sweep is claimed if it is within this one's share."""
        kind, _, body = message.partition(" ")
        sweep_id = body.split(" ", 1)[0]
        if kind == "sweep":
            if sweep_id not in self.sweeps:
                self.client.sadd(self.ledger.keys.active, sweep_id)  # announced by an older version: share it out
                if not self.lead.claim(sweep_id):
                    return
                log.info("scheduler %s leads sweep %s", self.owner, sweep_id)
            self._load(sweep_id)
            changed.setdefault(sweep_id, set())
            return
        rt = self.sweeps.get(sweep_id)
        if rt is None:
            self.client.rpush(self.ledger.keys.sweep_inbox(sweep_id), message)
        elif kind == "trial":
            _, number, payload = [*body.split(" ", 2), ""][:3]
            if payload and int(number) in rt.trials:
                rt.update({**rt.trials[int(number)], **json.loads(payload)})
                changed.setdefault(sweep_id, set())
            else:
                changed[sweep_id].add(int(number))
        elif kind == "exploit":  # a population exploit: the next step starts its member
            rt.pend(self.ledger.exploits(sweep_id, [body.partition(" ")[2]]))
            changed.setdefault(sweep_id, set())

    def _load(self, sweep_id: str) -> None:
        """(Re)load a sweep from the ledger if it is unfinished; re-send tasks never confirmed as sent."""
        doc = self.ledger.sweep(sweep_id)
        if doc is None or doc.get("status") not in ACTIVE:
            self.sweeps.pop(sweep_id, None)
            self.ledger.end_active(sweep_id)
            self.lead.release(sweep_id)
            return
        if sweep_id in self.sweeps:
            self.sweeps[sweep_id].doc = doc
            return
        records = self.ledger.trials(sweep_id)
        try:
            warm, children = self._history(doc)
            rt = SweepRuntime.build(sweep_id, doc, records, warm, children)
        except Exception as exc:  # a spec this version cannot read must not stop the other sweeps
            log.exception("cannot load sweep %s", sweep_id)
            self.ledger.update_sweep(sweep_id, {"status": "failed", "reason": f"cannot load: {exc}", "ended": time.time()})
            self.ledger.end_active(sweep_id)
            self.lead.release(sweep_id)
            return
        if rt.spec.population is not None:
            rt.pend(self.ledger.exploits(sweep_id))
        if doc.get("status") == "pending":
            rt.doc.update(status="running", started=time.time())
            self.ledger.update_sweep(sweep_id, {"status": "running", "started": rt.doc["started"]})
        self.sweeps[sweep_id] = rt
        # A previous scheduler may have died between storing a trial and sending its task: send every queued
        # trial again. A duplicate message is harmless, the worker drops it (the trial is no longer queued).
        self._dispatch(rt, [r for r in records if r.get("status") == "queued"])

    def _history(self, doc: dict[str, Any]) -> tuple[list[TrialRecord], list[tuple[dict[str, Any], str | None]]]:
        """Warm-start trials (finished trials of the resume_from sweeps) and the child trials to resume."""
        spec = doc["spec"]
        names = [m["name"] for m in spec.get("metrics") or ([spec["metric"]] if spec.get("metric") else [])]
        ranking = Ranking.of(spec.get("metric"))
        warm = [
            to_record(r, names, source=earlier, ranking=ranking)
            for earlier in spec.get("resume_from", ())
            for r in self.ledger.trials(earlier)
            if r.get("status") in ("completed", "stopped", "failed")
        ]
        children = []
        for ref in spec.get("resume_child_runs", ()):
            earlier, _, number = ref.rpartition("/")
            record = self.ledger.trial(earlier, int(number)) or {}
            children.append((record.get("params", {}), record.get("output_dir")))
        return warm, children

    def tick(self, changed: dict[str, set[int]], full: bool) -> None:
        """Refresh what changed (everything in flight on a full tick), then step each affected sweep."""
        targets = list(self.sweeps) if full else [s for s in changed if s in self.sweeps]
        if full:
            self._queued = {}  # counted again below, for the sweeps still led
        for sweep_id in targets:
            rt = self.sweeps[sweep_id]
            numbers = set(changed.get(sweep_id, ()))
            if full:
                numbers |= set(rt.in_flight)
                rt.doc = self.ledger.sweep(sweep_id) or rt.doc
            for record in self.ledger.trials(sweep_id, numbers):
                rt.update(record)
            if full:
                running = [n for n, r in rt.trials.items() if r.get("status") == "running"]
                self._queued[sweep_id] = sum(1 for n in rt.flying if rt.trials.get(n, {}).get("status") == "queued")
                rt.leases = self._leases(sweep_id, running)
            try:
                self.apply(rt, step(rt.snapshot(stop_grace_seconds=self.settings.stop_grace_seconds), rt.sampler))  # type: ignore[arg-type]
            finally:
                rt.leases = {}
            if full:
                self._publish_counts(rt)  # once a second: progress for clients without a write per trial

    # -- commands -----------------------------------------------------------------------------------------
    def apply(self, rt: SweepRuntime, commands: list[Command]) -> None:
        starts = [c for c in commands if isinstance(c, StartTrial)]
        if starts:
            self._start(rt, starts)
        for c in commands:
            if isinstance(c, RetryTrial):
                self._retry(rt, c)
            elif isinstance(c, EndTrial):
                fields = {"status": c.status, "ended": time.time(), "error": c.reason}
                self.ledger.transition(
                    rt.sweep_id, c.number, ["running"], fields, attempt=c.attempt, only_without_lease=True
                )
            elif isinstance(c, CancelQueued):
                for n in c.numbers:
                    fields = {"status": "canceled", "ended": time.time(), "error": c.reason}
                    if not self.ledger.transition(rt.sweep_id, n, ["queued"], fields):
                        self._refresh(rt, [n])  # it started meanwhile: the next step stops it instead
            elif isinstance(c, RequestStop):
                self._request_stop(rt, c)
            elif isinstance(c, Revoke):
                self._revoke(rt, c)
            elif isinstance(c, FinishSweep):
                self._finish(rt, c)

    def _start(self, rt: SweepRuntime, starts: list[StartTrial]) -> None:
        now = time.time()
        records = [
            {"number": c.number, "attempt": 1, "params": c.params, "status": "queued", "created": now,
             "task_id": uuid.uuid4().hex, "resume_from": rt.resume_dirs.get(c.number)}
            for c in starts
        ]
        next_number = max(c.number for c in starts) + 1
        exploits = self._members(rt, starts, records)
        self.ledger.create_trials(rt.sweep_id, records, next_number, exploits)
        rt.doc["next_number"] = next_number
        for record in records:
            rt.update(record)
        self._dispatch(rt, records)

    def _members(self, rt: SweepRuntime, starts: list[StartTrial], records: list[dict[str, Any]]) -> dict[str, Any]:
        """Population replacements: copy each donor's output directory now (the donor keeps writing its own) into
        the member's, resume from it, and keep the lineage; returns the exploits to mark carried out."""
        done: dict[str, Any] = {}
        for c, record in zip(starts, records, strict=True):
            doc = rt.exploits.pop(c.exploit, None) if isinstance(c, StartMember) else None
            if doc is None or not isinstance(c, StartMember):
                continue
            record["resume_from"] = self._copy_checkpoint(rt.sweep_id, c.number, doc.get("donor_dir"))
            record["lineage"] = {k: doc.get(k) for k in LINEAGE}
            done[c.exploit] = {**doc, "member": c.number}
        return done

    def _copy_checkpoint(self, sweep_id: str, number: int, donor_dir: str | None) -> str | None:
        """Copy a donor's output directory into trial `number`'s; None (a fresh start) when it cannot be read."""
        target = Path(self.settings.artifact_root).resolve() / sweep_id / f"trial-{number}"
        try:
            if not donor_dir:
                raise FileNotFoundError("the donor has no output directory yet")
            shutil.copytree(donor_dir, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("output.log"))
        except (OSError, shutil.Error) as exc:
            log.warning("sweep %s #%s starts without the donor's checkpoint: %s", sweep_id, number, exc)
            return None
        return str(target)

    def _retry(self, rt: SweepRuntime, c: RetryTrial) -> None:
        fields = {"status": "queued", "attempt": c.attempt, "task_id": uuid.uuid4().hex,
                  "error": c.reason, "started": None, "worker": None}
        prev = c.attempt - 1
        if self.ledger.transition(rt.sweep_id, c.number, ["running"], fields, attempt=prev, only_without_lease=True):
            record = self.ledger.trial(rt.sweep_id, c.number)
            if record is not None:
                rt.update(record)
                self._dispatch(rt, [record])

    def _dispatch(self, rt: SweepRuntime, records: list[dict[str, Any]]) -> None:
        """Send one Celery task per trial (the trial is stored first, so a crash here loses nothing)."""
        if not records:
            return
        spec = rt.spec
        limit = spec.limits.trial_timeout_minutes
        options: dict[str, Any] = {}
        if limit is not None:
            grace = self.settings.stop_grace_seconds + 30
            options["time_limit"] = limit * 60 + grace
            if isinstance(spec.trial, PythonTrial):
                options["soft_time_limit"] = limit * 60
        queue = spec.resources.effective_queue
        with self.app.producer_or_acquire() as producer:
            for r in records:
                kwargs = {"sweep": rt.sweep_id, "trial": r["number"], "attempt": r["attempt"]}
                shown = {**kwargs, "params": r["params"], "name": spec.name}  # Flower shows kwargsrepr, not kwargs
                publish_trial(self.app, producer, queue, r["task_id"], kwargs, f"sweepq.trial {spec.name} #{r['number']}",
                              json.dumps(shown)[:1024], options)

    def _request_stop(self, rt: SweepRuntime, c: RequestStop) -> None:
        self.ledger.request_stop(rt.sweep_id, c.numbers, c.reason)
        now = time.time()
        for n in c.numbers:
            self.ledger.update_trial(rt.sweep_id, n, {"stop_reason": c.reason, "stop_requested_at": now})
            rt.trials[n].update(stop_reason=c.reason, stop_requested_at=now)

    def _revoke(self, rt: SweepRuntime, c: Revoke) -> None:
        ids = [rt.trials[n]["task_id"] for n in c.numbers if rt.trials[n].get("task_id")]
        if ids:
            self.app.control.revoke(ids, terminate=True, signal="SIGKILL")
        for n in c.numbers:
            self.ledger.update_trial(rt.sweep_id, n, {"revoked": True})
            rt.trials[n]["revoked"] = True

    def _refresh(self, rt: SweepRuntime, numbers: list[int]) -> None:
        for record in self.ledger.trials(rt.sweep_id, numbers):
            rt.update(record)

    def _finish(self, rt: SweepRuntime, c: FinishSweep) -> None:
        self._refresh(rt, rt.in_flight)
        if any(rt.trials[n].get("status") == "running" for n in rt.in_flight):
            return  # a trial started after the snapshot was taken; the next step winds it down first
        log.info("sweep %s %s: %s", rt.sweep_id, c.status, c.reason)
        # the final counts in the same write as the status: a client that sees "completed" sees every trial ended
        fields = {"status": c.status, "reason": c.reason, "ended": time.time(), **self._progress(rt)}
        self.ledger.update_sweep(rt.sweep_id, fields)
        rt.doc["status"] = c.status
        self.ledger.end_active(rt.sweep_id)
        self.lead.release(rt.sweep_id)
        self.sweeps.pop(rt.sweep_id, None)

    def _publish_counts(self, rt: SweepRuntime) -> None:
        self.ledger.update_sweep(rt.sweep_id, self._progress(rt))

    @staticmethod
    def _progress(rt: SweepRuntime) -> dict[str, Any]:
        """The sweep's counts by status and its best trial, as its document shows them."""
        best = rt.best()
        return {"counts": rt.counts(), "best": None if best is None else {"number": best[0], "value": best[1]}}
