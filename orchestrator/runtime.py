"""A sweep as the scheduler holds it in memory: its spec, trial records and sampler, rebuilt from the ledger.

Pure (no I/O): the scheduler feeds it records it read and asks it for a scheduling snapshot.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.ranking import Ranking, best_of, objective_values, sampler_value
from orchestrator.samplers import Sampler, TrialRecord, create_sampler
from orchestrator.samplers.resume import ResumeFirst
from orchestrator.scheduling import ERRORS_SHOWN, PendingExploit, SweepSnapshot, TrialView
from orchestrator.spec import SweepSpec

MAX_DEFAULT_CONCURRENCY = 1000
MIN_CONSECUTIVE_FAILURES = 5  # the default limit is max(this, 2 x concurrency): see README "limits and resources"
SUCCEEDED = ("completed", "stopped")

__all__ = ["SweepRuntime", "best_of", "objective_values", "sampler_value", "to_record"]


def to_record(
    rec: dict[str, Any], objectives: Sequence[str] = (), source: str = "", ranking: Ranking | None = None
) -> TrialRecord:
    """A ledger record as a sampler sees it (no value without a ranking, i.e. for a sweep without a metric)."""
    status = rec.get("status", "queued")
    values = objective_values(rec, objectives, ranking) if len(objectives) > 1 else None
    violations = None if ranking is None else ranking.violations(rec)
    return TrialRecord(
        int(rec["number"]), rec.get("params", {}), status, sampler_value(rec, ranking), source, values, violations
    )


def _by_time(item: tuple[str, dict[str, Any]]) -> tuple[float, str]:
    return float(item[1].get("time") or 0.0), item[0]


def _end_order(record: dict[str, Any]) -> tuple[float, int]:
    """Finished trials in the order they ended (unfinished ones last), so a rebuilt failure streak is the same."""
    ended = record.get("ended")
    return (float(ended) if isinstance(ended, (int, float)) else float("inf"), int(record["number"]))


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
    ranking: Ranking | None = None  # None: the sweep has no metric, so nothing ranks
    failure_streak: int = 0  # trials failed in a row since the last success, in the order they ended
    streak_errors: list[tuple[int, str]] = field(default_factory=list)  # the first errors of that streak
    exploits: dict[str, dict[str, Any]] = field(default_factory=dict)  # population exploits no member carries out yet
    replacements: int = 0  # members started for exploits

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
        ranking = Ranking.of(spec.metric)
        total = spec.total_runs if spec.population is None else min(spec.population.size, spec.total_runs or 2**31)
        rt = cls(sweep_id, spec, doc, total_runs=total, objective_names=names, ranking=ranking)
        sampler = create_sampler(spec, [*warm, *(to_record(r, names, ranking=ranking) for r in records)])
        if children:
            sampler = ResumeFirst(sampler, [params for params, _ in children])
            rt.resume_dirs = {i: d for i, (_, d) in enumerate(children) if d}
        rt.sampler = sampler
        for record in sorted(records, key=_end_order):
            rt._track(record)
        return rt

    def update(self, record: dict[str, Any]) -> None:
        """Take a fresh trial record; the sampler learns of it when its state changed."""
        old = self.trials.get(int(record["number"]))
        self._track(record)
        if self.sampler is not None and (old is None or old.get("status") != record.get("status")):
            self.sampler.observe(to_record(record, self.objective_names, ranking=self.ranking))

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
        if old is None or old.get("status") != status:
            self._count_outcome(number, status, record)
        if old is None and record.get("lineage"):
            self.replacements += 1
        value = self._score(record)
        ended = status in ("completed", "stopped", "canceled")
        if ended and value is not None and self._better(number, value, self.finished_best):
            self.finished_best = (number, value)

    def _count_outcome(self, number: int, status: str, record: dict[str, Any]) -> None:
        """Keep the failure streak: a failure extends it (its error kept among the first few), a success ends it."""
        if status == "failed":
            self.failure_streak += 1
            if len(self.streak_errors) < ERRORS_SHOWN:
                self.streak_errors.append((number, str(record.get("error") or "")[-4000:]))
        elif status in SUCCEEDED:
            self.failure_streak = 0
            self.streak_errors = []

    def _score(self, record: dict[str, Any]) -> float | None:
        return None if self.ranking is None else self.ranking.score(record)

    def _better(self, number: int, value: float, than: tuple[int, float] | None) -> bool:
        """Better than the best so far; on a tie the lower trial number wins, as in `best_trial()` (PBT copies often
        tie their donors)."""
        if than is None or (value == than[1] and number < than[0]):
            return True
        return self.ranking is not None and self.ranking.better(value, than[1])

    @property
    def in_flight(self) -> list[int]:
        return sorted(self.flying)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in self.status_counts.items() if v > 0}

    def best(self) -> tuple[int, float] | None:
        """The best value any trial produced so far (running ones included; failed ones excluded)."""
        best = self.finished_best
        for n in self.flying:
            value = self._score(self.trials[n])
            if value is not None and self._better(n, value, best):
                best = (n, value)
        return best

    def pend(self, exploits: dict[str, dict[str, Any]]) -> None:
        """Take exploits the evaluator recorded; those a member already carries out are dropped."""
        for key, doc in exploits.items():
            if doc.get("member") is None:
                self.exploits[key] = doc
            else:
                self.exploits.pop(key, None)

    def concurrency(self) -> int:
        if self.spec.population is not None:
            return self.spec.population.size
        limit = self.spec.limits.max_concurrent_runs
        if limit is not None:
            return limit
        return min(self.total_runs or MAX_DEFAULT_CONCURRENCY, MAX_DEFAULT_CONCURRENCY)

    def failure_limit(self) -> int | None:
        """Failed trials in a row that end the sweep: the spec's limit (0: never), else max(5, 2 x concurrency)."""
        limit = self.spec.limits.max_consecutive_failures
        if limit is None:
            return max(MIN_CONSECUTIVE_FAILURES, 2 * self.concurrency())
        return limit or None

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
            goal="maximize" if self.ranking is None else self.ranking.goal,
            max_total_runs=self.total_runs,
            max_concurrent_runs=self.concurrency(),
            max_duration_seconds=None if minutes is None else minutes * 60,
            max_retries=spec.limits.max_retries,
            target=None if spec.metric is None else spec.metric.target,
            best_value=None if best is None else best[1],
            cancel_requested=bool(self.doc.get("cancel_requested")),
            stop_requested=bool(self.doc.get("stop_requested")),
            paused=bool(self.doc.get("paused")),
            stop_grace_seconds=stop_grace_seconds,
            succeeded=sum(self.status_counts[s] for s in SUCCEEDED),
            failed=self.status_counts["failed"],
            consecutive_failures=self.failure_streak,
            max_consecutive_failures=self.failure_limit(),
            failure_errors=tuple(self.streak_errors),
            exploits=tuple(PendingExploit(k, d["params_after"]) for k, d in sorted(self.exploits.items(), key=_by_time)),
            replacements=self.replacements,
            population=self.spec.population is not None,
        )

    def _view(self, n: int) -> TrialView:
        r = self.trials[n]
        return TrialView(
            number=n,
            status=str(r.get("status")),
            attempt=int(r.get("attempt", 1)),
            best=self._score(r),
            lease_alive=self.leases.get(n) if r.get("status") == "running" else None,
            stop_reason=r.get("stop_reason"),
            stop_requested_at=r.get("stop_requested_at"),
            revoked=bool(r.get("revoked")),
        )
