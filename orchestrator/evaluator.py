"""The policy evaluator: reads each running sweep's metric stream with a consumer group, keeps the metrics
table, applies the sweep's policy at each evaluation interval, records every decision and stops trials.

Restart-safe: entries are acknowledged only after they were applied; a new evaluator rebuilds each table from
the stream (entries already acknowledged are applied silently, pending ones are evaluated again), and decisions
and stop flags are written with SETNX semantics, so nothing is lost and nothing is stopped twice.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import redis

from orchestrator.metrics_table import MetricTable
from orchestrator.policies import Decision, Policy, create_policy
from orchestrator.policies.incremental import decide
from orchestrator.population import PopulationPolicy, create_population
from orchestrator.settings import Settings
from orchestrator.spec import SweepSpec
from orchestrator.store.codec import dumps
from orchestrator.store.connection import OUTAGE_ERRORS, Outage, redis_client
from orchestrator.store.keys import Keys
from orchestrator.store.leadership import SweepLeadership
from orchestrator.store.ledger import Ledger, text
from orchestrator.store.streams import (
    Report,
    adopt,
    after,
    commit,
    curve_entries,
    decode_entry,
    merged,
    read_reports,
    text_entries,
)

log = logging.getLogger("sweepq.evaluator")
GROUP = "evaluator"
REFRESH_SECONDS = 1.0
WAIT_SECONDS = 0.05  # the longest an evaluator waits for reports before it looks for new sweeps again
BATCH_SECONDS = 0.025  # reads of the streams are at least this far apart (adds at most this to a decision's lag)


def entry_id(raw: str) -> tuple[int, int]:
    ms, _, seq = raw.partition("-")
    return int(ms), int(seq or 0)


@dataclass
class Watch:
    """One sweep under evaluation."""

    sweep_id: str
    spec: SweepSpec
    policy: Policy
    table: MetricTable
    last: tuple[int, int] = (0, 0)
    earlier_stops: set[tuple[int, int, int]] = field(default_factory=set)  # (trial, attempt, interval), on catch-up
    population: PopulationPolicy | None = None  # a population sweep's policy (PBT), applied beside `policy`
    continues: int = 0  # continue decisions of the batch being applied, counted when it is committed
    judged: bool = True  # False: no policy or population (or no metric): its reports are only compacted
    decided: dict[str, str] = field(default_factory=dict)  # the batch's kept decisions, written when committed
    stopping: list[tuple[int, int]] = field(default_factory=list)  # the batch's (trial, attempt) to stop


class Evaluator:
    """Applies early-termination policies to every running sweep; `run()` until `stop` is set."""

    def __init__(self, settings: Settings, client: redis.Redis | None = None) -> None:
        self.settings = settings
        self.client = client or redis_client(settings)
        self.ledger = Ledger(self.client, Keys(settings.key_prefix))
        self.keys = self.ledger.keys
        self.owner = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self.watches: dict[str, Watch] = {}
        self.lead = SweepLeadership(self.client, self.keys, "evaluator", self.owner, settings.scheduler_lock_seconds)
        self._renewed = -math.inf
        self._refreshed = 0.0
        self._started = False
        # A new sweep is seen after at most this wait: its first decisions would otherwise lag by up to a poll.
        self._wait_s = min(settings.scheduler_poll_seconds, WAIT_SECONDS)
        self._others: set[str] = set()  # sweeps another evaluator led at the last lease tick
        self._polled = 0.0  # when the streams were last read (see BATCH_SECONDS)
        self._discovered = -math.inf  # when the sweep sets were last read (see discover)

    def run(self, stop: threading.Event | None = None) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        stop = stop or threading.Event()
        outage = Outage(log, "evaluator")
        try:
            while not stop.is_set():
                try:
                    idle = self._cycle()
                except OUTAGE_ERRORS as exc:  # Redis away: wait it out, then rebuild every table from its stream
                    self._renewed = -math.inf
                    self.lead.forget()
                    self.watches.clear()
                    stop.wait(outage.failed(exc))
                    continue
                outage.recovered()
                if idle:
                    stop.wait(self._wait_s)
        finally:
            with contextlib.suppress(*OUTAGE_ERRORS):
                self.lead.release_all()

    def _cycle(self) -> bool:
        """One round: keep the sweep leases, watch new sweeps, read and apply new entries; True when idle."""
        if not self._started:
            self._started = True
            self._queue_ended()
        if time.monotonic() - self._discovered >= self._wait_s:  # not every batch: it costs a round trip
            self._discovered = time.monotonic()
            self.discover()
        if time.monotonic() - self._refreshed >= REFRESH_SECONDS:
            self._refreshed = time.monotonic()
            for watch in self.watches.values():
                self._note_finished(watch)
        if not self.watches:
            return True
        self.poll(block_ms=int(self._wait_s * 1000))
        return False

    def _queue_ended(self) -> None:
        """Once per process: ended sweeps with reports no evaluator applied (left by a version without the draining
        set) are queued for draining, so every report still gets its decision."""
        active = {text(s) for s in self.client.smembers(self.keys.active)}
        ended = [s for s in self.ledger.sweep_ids() if s not in active]
        pipe = self.client.pipeline(transaction=False)
        for sweep_id in ended:
            pipe.xinfo_groups(self.keys.metrics(sweep_id))
        for sweep_id, groups in zip(ended, pipe.execute(raise_on_error=False), strict=True):
            group = next((g for g in groups if text(g["name"]) == GROUP), None) if isinstance(groups, list) else None
            if group is not None and (group.get("lag") != 0 or group["pending"]):
                self.client.sadd(self.keys.draining, sweep_id)

    # -- sweeps ---------------------------------------------------------------------------------------------
    def discover(self) -> None:
        """Keep this evaluator's share of the sweep leases (once a second, or at once when a sweep is new), watch
        the running sweeps it leads, and drain the ended ones (their last reports applied before they are let go)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.smembers(self.keys.active)
        pipe.smembers(self.keys.draining)
        active, draining = ({text(s) for s in group} for group in pipe.execute())
        now = time.monotonic()
        if now - self._renewed >= REFRESH_SECONDS or (active | draining) - self.lead.held - self._others:
            self._renewed = now
            _, lost = self.lead.tick(active | draining)
            self._others = (active | draining) - self.lead.held
            for sweep_id in lost:
                self.watches.pop(sweep_id, None)
        for sweep_id in self.lead.held - active:
            self._finish(sweep_id, sweep_id in draining)
        for sweep_id in sorted(self.lead.held - set(self.watches)):
            doc = self.ledger.sweep(sweep_id)
            if doc is None or doc.get("status") != "running":
                continue
            self.watches[sweep_id] = watch = self._watch(sweep_id, SweepSpec.model_validate(doc["spec"]))
            self._catch_up(watch)

    def _finish(self, sweep_id: str, draining: bool) -> None:
        """An ended sweep this evaluator leads: apply what is left of its stream, then let it go."""
        watch = self.watches.pop(sweep_id, None)
        if draining:
            doc = self.ledger.sweep(sweep_id) if watch is None else None
            if doc is not None:
                watch = self._watch(sweep_id, SweepSpec.model_validate(doc["spec"]))
                self._catch_up(watch)
            if watch is not None:
                self._drain(watch)
            self.client.srem(self.keys.draining, sweep_id)
        self.lead.release(sweep_id)

    def _watch(self, sweep_id: str, spec: SweepSpec) -> Watch:
        """A warm-started table for a sweep the evaluator judges (a metric, and a policy or a population); a sweep
        without either is watched too, only to compact its reports (so per-trial reads and the stream stay bounded)."""
        if spec.metric is None or (spec.early_termination.policy == "none" and spec.population is None):
            return Watch(sweep_id, spec, create_policy(spec), MetricTable(""), judged=False)
        watch = Watch(sweep_id, spec, create_policy(spec), MetricTable(spec.metric.name, spec.metric.goal))
        watch.population = create_population(spec.population, spec.metric.goal)
        self._warm(watch)
        return watch

    def _note_finished(self, watch: Watch) -> None:
        numbers = sorted(watch.table.unfinished)  # about the trials in flight, not every trial of the sweep
        if not numbers:
            return
        pipe = self.client.pipeline(transaction=False)
        for n in numbers:
            pipe.hget(self.keys.trial(watch.sweep_id, n), "status")
        for n, status in zip(numbers, pipe.execute(), strict=True):
            if status is not None and json.loads(text(status)) not in ("queued", "running"):
                watch.table.finish(n)

    def _catch_up(self, watch: Watch) -> None:
        """Rebuild the table from the compacted curves and the stream's tail: acknowledged entries silently,
        pending ones evaluated again (then committed: compacted and acknowledged)."""
        key = self.keys.metrics(watch.sweep_id)
        try:
            self.client.xgroup_create(key, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        groups: Any = self.client.xinfo_groups(key)
        info = next(g for g in groups if text(g["name"]) == GROUP)
        delivered = text(info["last-delivered-id"])
        pending: Any = self.client.xpending_range(key, GROUP, min="-", max="+", count=1_000_000)
        redo = {text(p["message_id"]) for p in pending}
        watch.earlier_stops = {(d["trial"], d["attempt"], d["interval"]) for d in self._stop_decisions(watch.sweep_id)}
        if delivered != "0-0":
            raw: Any = self.client.xrange(key, min="-", max=delivered)
            curves = curve_entries(self.client, self.keys, watch.sweep_id, self.ledger.trial_numbers(watch.sweep_id))
            self._apply(watch, merged(curves, {text(i): f for i, f in raw}), evaluate_only=redo)
            adopt(self.client, self.keys, watch.sweep_id, [e for e in raw if text(e[0]) not in redo | curves.keys()])
            self._commit(watch, [e for e in raw if text(e[0]) in redo], trim_to=after(delivered))
        watch.earlier_stops.clear()

    def _warm(self, watch: Watch) -> None:
        """Finished curves of the resume_from sweeps join the table (as trials -1, -2, ...): a warm-started
        sweep's policy compares its runs with theirs too. Stopped ones end where they were stopped."""
        key = -1
        for earlier in watch.spec.resume_from:
            stops = {(d["trial"], d["interval"]) for d in self._stop_decisions(earlier)}
            attempts = {int(r["number"]): int(r.get("attempt", 1)) for r in self.ledger.trials(earlier)}
            ids: dict[int, int] = {}
            for report in read_reports(self.client, self.keys, earlier):
                if report.attempt != attempts.get(report.trial):
                    continue
                if report.trial not in ids:
                    ids[report.trial], key = key, key - 1
                interval = watch.table.add(ids[report.trial], 1, report.values)
                if interval is not None and (report.trial, interval) in stops:
                    watch.table.stop(ids[report.trial], interval)
            watch.table.finish(*ids.values())

    def _stop_decisions(self, sweep_id: str) -> list[dict[str, Any]]:
        docs = [json.loads(v) for v in self.client.hvals(self.keys.decisions(sweep_id))]
        return [d for d in docs if d.get("stop")]

    # -- stream ---------------------------------------------------------------------------------------------
    def poll(self, block_ms: int) -> None:
        """Read new entries of every watched stream, apply them, then acknowledge them."""
        by_key = {self.keys.metrics(s): s for s in self.watches}
        streams: Any = dict.fromkeys(by_key, ">")
        pause = self._polled + BATCH_SECONDS - time.monotonic()
        if pause > 0:  # a batch gathers a few ms of reports: per-batch costs (two round trips) are paid once for all
            time.sleep(pause)
        self._polled = time.monotonic()
        reply: Any = self.client.xreadgroup(GROUP, self.owner, streams, count=1000, block=max(block_ms, 1))
        for key, entries in reply or []:
            watch = self.watches.get(by_key.get(text(key), ""))
            if watch is None or not entries:
                continue
            entries = text_entries(entries)
            self._apply(watch, entries, evaluate_only=None)
            self._commit(watch, entries, trim_to=after(entries[-1][0]))

    def _drain(self, watch: Watch) -> None:
        """Apply and acknowledge whatever is left unread in a sweep's stream."""
        key = self.keys.metrics(watch.sweep_id)
        while True:
            reply: Any = self.client.xreadgroup(GROUP, self.owner, {key: ">"}, count=1000)
            entries = text_entries(reply[0][1]) if reply else []
            if not entries:
                return
            self._apply(watch, entries, evaluate_only=None)
            self._commit(watch, entries, trim_to=after(entries[-1][0]))

    def _commit(self, watch: Watch, entries: Any, trim_to: str) -> None:
        """Write the batch's decisions and stops, then acknowledge its entries, compact them into their curves,
        count its continue decisions and trim the stream below them: one round trip per batch (streams.commit)."""
        decided, stopping = watch.decided, watch.stopping

        def writes(pipe: Any) -> None:
            for field_name, doc in decided.items():
                pipe.hsetnx(self.keys.decisions(watch.sweep_id), field_name, doc)
            for number, attempt in stopping:
                self.ledger.queue_stop(pipe, watch.sweep_id, number, attempt)

        commit(self.client, self.keys, watch.sweep_id, GROUP, entries, trim_to=trim_to, continues=watch.continues,
               tail_s=self.settings.stream_tail_seconds, writes=writes if decided or stopping else None,
               reload=self.ledger.load_scripts)
        watch.continues, watch.decided, watch.stopping = 0, {}, []

    def _apply(self, watch: Watch, entries: Any, evaluate_only: set[str] | None) -> None:
        """Add entries to the table; evaluate each new interval (all, or only the ids in `evaluate_only`)."""
        for raw_id, fields in entries:
            rid = text(raw_id)
            eid = entry_id(rid)
            if eid <= watch.last:
                continue
            watch.last = eid
            if not watch.judged:
                continue
            report = decode_entry(rid, fields)
            interval = watch.table.add(report.trial, report.attempt, report.values)
            if interval is None or (evaluate_only is not None and rid not in evaluate_only):
                self._replay_stop(watch, report, interval)
                continue
            if watch.policy.applies(interval):
                self._decide(watch, report, interval)
            elif watch.population is not None and watch.population.applies(interval):
                self._exploit(watch, watch.population, report, interval)

    def _replay_stop(self, watch: Watch, report: Report, interval: int | None) -> None:
        """While rebuilding, cut a curve where an earlier evaluator stopped the trial."""
        if interval is not None and (report.trial, report.attempt, interval) in watch.earlier_stops:
            watch.table.stop(report.trial, interval)

    def _decide(self, watch: Watch, report: Report, interval: int) -> None:
        decision = decide(watch.policy, watch.table.index, report.trial, interval)  # O(log trials): read from the index
        self._record(watch, report.attempt, decision, reported=entry_id(report.entry_id)[0] / 1000)
        if decision.stop:
            watch.table.stop(report.trial, interval)
            self._stop(watch, report.trial, report.attempt)

    def _record(self, watch: Watch, attempt: int, d: Decision, reported: float | None = None) -> None:
        """Keep a stop decision with its numbers; a continue one is only counted, unless keep_continue_decisions.
        `reported` is when the deciding report reached Redis (its stream id), so a decision's lag can be read."""
        if not d.stop and not self.settings.keep_continue_decisions:
            watch.continues += 1
            return
        doc = {
            "trial": d.trial, "attempt": attempt, "interval": d.interval, "stop": d.stop, "value": d.value,
            "threshold": d.threshold, "reason": d.reason, "policy": watch.policy.name, "time": time.time(),
            "reported": reported,
        }
        watch.decided[f"{d.trial}:{attempt}:{d.interval}"] = dumps(doc)

    def _stop(self, watch: Watch, number: int, attempt: int) -> None:
        """Ask a running trial to stop (its next report or heartbeat sees the flag; the scheduler revokes later),
        with the batch's commit (see _commit)."""
        watch.stopping.append((number, attempt))
        log.info("stopping %s #%s", watch.sweep_id, number)

    # -- population ---------------------------------------------------------------------------------------------
    def _exploit(self, watch: Watch, population: PopulationPolicy, report: Report, interval: int) -> None:
        """Population sweeps: if the reporting member is among the worst, record an exploit (the donor's explored
        parameters and output directory, for the scheduler to start a member from) and stop the member."""
        table = watch.table
        latest = {  # the members still running: O(population), not every member the sweep ever had
            t: table.curves[t][-1] for t in table.unfinished if table.curves.get(t) and t >= 0 and t not in table.stopped_at
        }
        exploit = population.decide(report.trial, interval, latest)
        if exploit is None:
            return
        records = {int(r["number"]): r for r in self.ledger.trials(watch.sweep_id, [exploit.trial, exploit.donor])}
        victim, donor = records.get(exploit.trial), records.get(exploit.donor)
        if victim is None or donor is None or victim.get("status") != "running":
            return  # a member that already ended (at its last report) has no slot to hand over
        explored = population.explore(donor.get("params", {}), watch.spec.space.expressions, exploit)
        doc = {
            "replaces": exploit.trial, "attempt": report.attempt, "interval": interval, "step": report.step,
            "parent": exploit.donor, "parent_reports": len(table.curves.get(exploit.donor, ())),
            "params_before": victim.get("params"), "parent_params": donor.get("params"), "params_after": explored,
            "donor_dir": donor.get("output_dir"), "value": exploit.value, "parent_value": exploit.donor_value,
            "reason": exploit.reason, "policy": population.name, "time": time.time(),
        }
        self.ledger.record_exploit(watch.sweep_id, f"{exploit.trial}:{report.attempt}:{interval}", doc)
        decision = Decision(exploit.trial, interval, True, exploit.value, exploit.donor_value, exploit.reason)
        self._record(watch, report.attempt, decision)
        table.stop(exploit.trial, interval)
        self._stop(watch, exploit.trial, report.attempt)
