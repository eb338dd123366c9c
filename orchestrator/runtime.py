"""A sweep as the scheduler holds it in memory: its spec, trial records and sampler, rebuilt from the ledger.

Pure (no I/O): the scheduler feeds it records it read and asks it for a scheduling snapshot.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.samplers import Sampler, TrialRecord, create_sampler
from orchestrator.samplers.resume import ResumeFirst
from orchestrator.scheduling import SweepSnapshot, TrialView
from orchestrator.spec import SweepSpec
from orchestrator.store.codec import metric_float

MAX_DEFAULT_CONCURRENCY = 1000


def sampler_value(record: dict[str, Any]) -> float | None:
    """What a sampler learns from a trial: the final value if completed, the best reported one if stopped."""
    if record.get("status") == "completed":
        return metric_float(record.get("value"))
    if record.get("status") == "stopped":
        return metric_float(record.get("best"))
    return None


def objective_values(rec: dict[str, Any], names: Sequence[str]) -> tuple[float, ...] | None:
    """Each objective's final value (the first is the primary metric); None unless all are numbers."""
    finals = rec.get("final_metrics") or {}
    values = [sampler_value(rec), *(metric_float(finals.get(n)) for n in names[1:])]
    return None if any(v is None for v in values) else tuple(v for v in values if v is not None)


def to_record(rec: dict[str, Any], objectives: Sequence[str] = (), source: str = "") -> TrialRecord:
    status = rec.get("status", "queued")
    values = objective_values(rec, objectives) if len(objectives) > 1 else None
    return TrialRecord(int(rec["number"]), rec.get("params", {}), status, sampler_value(rec), source, values)


def best_of(rec: dict[str, Any], goal: str) -> float | None:
    """The best value a trial produced: its best report or its final value, NaN excluded."""
    values = [v for v in (metric_float(rec.get("best")), metric_float(rec.get("value"))) if v is not None and v == v]
    if not values:
        return None
    return max(values) if goal == "maximize" else min(values)


@dataclass
class SweepRuntime:
    """One unfinished sweep: spec, every trial's latest record, and a sampler that has seen all of them.

    Counts, the in-flight set and the best finished value are kept incrementally, so a step costs what is in
    flight, not the whole history (a 1,000-trial sweep would otherwise be quadratic).
    """

    sweep_id: str
    spec: SweepSpec
    doc: dict[str, Any]
    trials: dict[int, dict[str, Any]] = field(default_factory=dict)
    sampler: Sampler | None = None
    leases: dict[int, bool] = field(default_factory=dict)
    total_runs: int | None = None
    objective_names: list[str] = field(default_factory=list)
    resume_dirs: dict[int, str] = field(default_factory=dict)  # trial number -> checkpoint directory it resumes
    flying: set[int] = field(default_factory=set)
    status_counts: Counter[str] = field(default_factory=Counter)
    finished_best: tuple[int, float] | None = None

    @classmethod
    def build(
        cls,
        sweep_id: str,
        doc: dict[str, Any],
        records: list[dict[str, Any]],
        warm: Sequence[TrialRecord] = (),
        children: Sequence[tuple[dict[str, Any], str | None]] = (),
    ) -> SweepRuntime:
        """From the ledger: own trials, warm-start trials of earlier sweeps, and the child trials to resume."""
        spec = SweepSpec.model_validate(doc["spec"])
        names = [o.name for o in spec.objectives]
        rt = cls(sweep_id, spec, doc, total_runs=spec.total_runs, objective_names=names)
        sampler = create_sampler(spec, [*warm, *(to_record(r, names) for r in records)])
        if children:
            sampler = ResumeFirst(sampler, [params for params, _ in children])
            rt.resume_dirs = {i: d for i, (_, d) in enumerate(children) if d}
        rt.sampler = sampler
        for record in records:
            rt._track(record)
        return rt

    def update(self, record: dict[str, Any]) -> None:
        """Take a fresh trial record; the sampler learns of it when its state changed."""
        old = self.trials.get(int(record["number"]))
        self._track(record)
        if self.sampler is not None and (old is None or old.get("status") != record.get("status")):
            self.sampler.observe(to_record(record, self.objective_names))

    def _track(self, record: dict[str, Any]) -> None:
        number = int(record["number"])
        old = self.trials.get(number)
        if old is not None:
            self.status_counts[str(old.get("status"))] -= 1
        self.trials[number] = record
        status = str(record.get("status"))
        self.status_counts[status] += 1
        if status in ("queued", "running"):
            self.flying.add(number)
        else:
            self.flying.discard(number)
        value = best_of(record, self.spec.metric.goal)
        if status in ("completed", "stopped", "canceled") and value is not None and self._better(value, self.finished_best):
            self.finished_best = (number, value)

    def _better(self, value: float, than: tuple[int, float] | None) -> bool:
        if than is None:
            return True
        return value > than[1] if self.spec.metric.goal == "maximize" else value < than[1]

    @property
    def in_flight(self) -> list[int]:
        return sorted(self.flying)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in self.status_counts.items() if v > 0}

    def best(self) -> tuple[int, float] | None:
        """The best value any trial produced so far (running ones included; failed ones excluded)."""
        best = self.finished_best
        for n in self.flying:
            value = best_of(self.trials[n], self.spec.metric.goal)
            if value is not None and self._better(value, best):
                best = (n, value)
        return best

    def concurrency(self) -> int:
        limit = self.spec.limits.max_concurrent_runs
        if limit is not None:
            return limit
        return min(self.total_runs or MAX_DEFAULT_CONCURRENCY, MAX_DEFAULT_CONCURRENCY)

    def snapshot(self, now: float | None = None, stop_grace_seconds: float = 10.0) -> SweepSnapshot:
        """The scheduling view: in-flight trials in detail, the rest summarized by the best value."""
        spec = self.spec
        minutes = spec.limits.max_duration_minutes
        views = tuple(self._view(n) for n in self.in_flight)
        best = self.best()
        return SweepSnapshot(
            now=time.time() if now is None else now,
            started=float(self.doc.get("started") or self.doc.get("created") or time.time()),
            next_number=int(self.doc.get("next_number", 0)),
            trials=views,
            goal=spec.metric.goal,
            max_total_runs=self.total_runs,
            max_concurrent_runs=self.concurrency(),
            max_duration_seconds=None if minutes is None else minutes * 60,
            max_retries=spec.limits.max_retries,
            target=spec.metric.target,
            best_value=None if best is None else best[1],
            cancel_requested=bool(self.doc.get("cancel_requested")),
            stop_requested=bool(self.doc.get("stop_requested")),
            paused=bool(self.doc.get("paused")),
            stop_grace_seconds=stop_grace_seconds,
        )

    def _view(self, n: int) -> TrialView:
        r = self.trials[n]
        return TrialView(
            number=n,
            status=str(r.get("status")),
            attempt=int(r.get("attempt", 1)),
            best=best_of(r, self.spec.metric.goal),
            lease_alive=self.leases.get(n) if r.get("status") == "running" else None,
            stop_reason=r.get("stop_reason"),
            stop_requested_at=r.get("stop_requested_at"),
            revoked=bool(r.get("revoked")),
        )
