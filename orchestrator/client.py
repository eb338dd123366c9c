"""The Python API: SweepClient submits and lists sweeps; Sweep watches, queries and cancels one."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from orchestrator.lineage import chain
from orchestrator.loading import load_spec
from orchestrator.pareto import pareto_front
from orchestrator.ranking import RANKED, Ranking, objective_values
from orchestrator.settings import Settings
from orchestrator.spec import SweepSpec
from orchestrator.store.connection import redis_client
from orchestrator.store.keys import Keys
from orchestrator.store.ledger import Ledger
from orchestrator.store.streams import read_reports

ENDED = ("completed", "canceled", "failed")
TRIAL_FIELDS = (
    "id", "number", "status", "params", "value", "best", "last", "reports", "attempt", "created", "started", "ended",
    "worker", "gpu", "task_id", "error", "exit_code", "final_metrics", "log_tail", "lineage",
)


def _describe(metric: tuple[str, str] | None) -> str:
    return "no metric" if metric is None else f"{metric[0]} ({metric[1]})"


def new_sweep_id(name: str) -> str:
    """A readable, unique sweep id: the name as a slug plus a random suffix."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "sweep"
    return f"{slug}-{uuid.uuid4().hex[:8]}"


def decision_totals(stops: int, kept: int, counted: int) -> dict[str, int]:
    """Stop and continue decisions in all, and `continue_listed`: the continues among the `kept` decisions (the
    other `counted` continues were only counted, not stored)."""
    listed = kept - stops
    return {"stop": stops, "continue": listed + counted, "continue_listed": listed}


class SweepClient:
    """Talks to the ledger in Redis; sweeps run once a scheduler and workers serve that Redis."""

    def __init__(self, redis_url: str | None = None, *, settings: Settings | None = None) -> None:
        base = settings or Settings()
        self.settings = base if redis_url is None else base.model_copy(update={"redis_url": redis_url})
        self.ledger = Ledger(redis_client(self.settings), Keys(self.settings.key_prefix))

    def submit(self, spec: str | Path | dict[str, Any] | SweepSpec) -> Sweep:
        """Validate the spec (SpecError names each bad field; nothing is created then) and queue the sweep."""
        resolved = load_spec(spec).with_resolved_seed()
        self._check_history(resolved)
        sweep_id = new_sweep_id(resolved.name)
        doc = {"name": resolved.name, "spec": resolved.model_dump(mode="json"), "status": "pending",
               "created": time.time(), "next_number": 0, "counts": {}, "best": None, "total": resolved.total_runs}
        while not self.ledger.create_sweep(sweep_id, doc):
            sweep_id = new_sweep_id(resolved.name)
        return Sweep(self, sweep_id)

    def _check_history(self, spec: SweepSpec) -> None:
        """Warm-start sweeps exist and share the metric and goal; resumed child trials exist."""
        for earlier in spec.resume_from:
            doc = self.ledger.sweep(earlier)
            if doc is None:
                raise ValueError(f"resume_from: no sweep {earlier!r} in this Redis")
            metric = doc["spec"].get("metric")
            theirs = None if metric is None else (metric["name"], metric["goal"])
            ours = None if spec.metric is None else (spec.metric.name, spec.metric.goal)
            if theirs != ours:
                raise ValueError(
                    f"resume_from: {earlier} optimizes {_describe(theirs)}, this sweep {_describe(ours)}: "
                    "a warm start needs the same metric and goal"
                )
        for ref in spec.resume_child_runs:
            earlier, _, number = ref.rpartition("/")
            if self.ledger.trial(earlier, int(number)) is None:
                raise ValueError(f"resume_child_runs: no trial {ref!r} in this Redis")

    def sweep(self, sweep_id: str) -> Sweep:
        """A handle on an existing sweep (KeyError if there is none)."""
        if self.ledger.sweep(sweep_id) is None:
            raise KeyError(f"no sweep {sweep_id!r}")
        return Sweep(self, sweep_id)

    def sweeps(self) -> list[dict[str, Any]]:
        """Every sweep's summary, oldest first."""
        return [s for s in (Sweep(self, i).status() for i in self.ledger.sweep_ids()) if s]


class Sweep:
    """One sweep: its status, trials, best trial and metrics, straight from the ledger."""

    def __init__(self, client: SweepClient, sweep_id: str) -> None:
        self.client = client
        self.id = sweep_id

    def __repr__(self) -> str:
        return f"Sweep({self.id!r})"

    @property
    def spec(self) -> SweepSpec:
        return SweepSpec.model_validate(self._doc()["spec"])

    def _doc(self) -> dict[str, Any]:
        doc = self.client.ledger.sweep(self.id)
        if doc is None:
            raise KeyError(f"no sweep {self.id!r}")
        return doc

    def status(self) -> dict[str, Any]:
        """id, name, status, why it ended, trial counts by state, total, best {number, value} and times."""
        doc = self._doc()
        keys = ("name", "status", "reason", "counts", "total", "best", "created", "started", "ended")
        status = {"id": self.id, **{k: doc.get(k) for k in keys}, "metric": doc["spec"].get("metric")}
        if doc.get("paused") and status["status"] in ("pending", "running"):
            status["status"] = "paused"
        return status

    def trials(self, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Every trial as a plain dict (params with dotted names for nested groups), by number; or one page of them
        (`offset` trials skipped, at most `limit`), read without touching the others."""
        numbers = self.client.ledger.trial_numbers(self.id, offset, limit)
        return self.rows(self.client.ledger.trials(self.id, numbers))

    def iter_trials(self, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every trial, by number, read in pipelined batches of `batch`: memory stays flat for any sweep size."""
        spec: SweepSpec | None = None
        for records in self.iter_records(batch):
            spec = spec or self.spec  # read once (at the first batch, as before), not once a batch
            yield from self.rows(records, spec)

    def iter_records(self, batch: int = 1000) -> Iterator[list[dict[str, Any]]]:
        """The ledger's trial records in batches (one ZRANGE page and one pipeline of HGETALLs per batch)."""
        offset = 0
        while numbers := self.client.ledger.trial_numbers(self.id, offset, batch):
            yield self.client.ledger.trials(self.id, numbers)
            offset += len(numbers)

    def rows(self, records: Sequence[dict[str, Any]], spec: SweepSpec | None = None) -> list[dict[str, Any]]:
        """Ledger records as the dicts trials() returns (with `feasible` for constrained sweeps); `spec`, the
        sweep's spec when the caller holds it (else it is read)."""
        rows = [{k: r.get(k) for k in TRIAL_FIELDS} | {"id": f"{self.id}/{r['number']}"} for r in records]
        ranking = Ranking.of(self._doc()["spec"].get("metric") if spec is None else spec.metric)
        if ranking is not None and ranking.constraints:  # constrained sweeps: feasible true/false, None until it ends
            rows = [r | {"feasible": ranking.feasible(r)} for r in rows]
        return rows

    def decisions(self) -> list[dict[str, Any]]:
        """The listed early-termination decisions (trial, attempt, interval, stop, value, threshold, reason, policy,
        time), in the order they were made: every stop decision; continue decisions only when the evaluator runs
        with keep_continue_decisions, else they are counted, not listed (see decision_counts())."""
        raw = self.client.ledger.r.hvals(self.client.ledger.keys.decisions(self.id))
        return sorted((json.loads(v) for v in raw), key=lambda d: (d["time"], d["trial"], d["interval"]))

    def decision_counts(self) -> dict[str, int]:
        """How many decisions were made: `stop` and `continue` in all, and `continue_listed`, those of the
        continues that decisions() lists (the others were only counted)."""
        docs = self.decisions()
        return decision_totals(sum(1 for d in docs if d["stop"]), len(docs), self.continues_counted())

    def continues_counted(self) -> int:
        """How many continue decisions were only counted, not kept (SWEEPQ_KEEP_CONTINUE_DECISIONS keeps them)."""
        return int(self.client.ledger.r.get(self.client.ledger.keys.continues(self.id)) or 0)

    def best_trial(self) -> dict[str, Any] | None:
        """The completed or stopped trial with the best primary metric, ranked by its best report or its final value
        as `metric.summary` says; None when no trial has a value, or when the sweep has no metric."""
        ranking = Ranking.of(self._doc()["spec"].get("metric"))
        if ranking is None:
            return None
        finished = [t for t in self.trials() if t["status"] in RANKED]
        best = ranking.pick([(v, t) for t in finished if (v := ranking.score(t)) is not None])
        if best is not None and self._doc()["spec"].get("population"):
            best = {**best, "schedule": self.schedule(best["number"])}
        return best

    def schedule(self, number: int) -> list[dict[str, Any]]:
        """A population member's parameter schedule: its ancestors and itself, oldest first, each with the trial,
        its parameters and the step it started from (its first report; the parent's checkpoint was one before)."""
        def first(n: int) -> int | None:
            reports = read_reports(self.client.ledger.r, self.client.ledger.keys, self.id, n)
            return min((r.step for r in reports if r.attempt == 1), default=None)

        return chain(number, lambda n: self.client.ledger.trial(self.id, n), first)

    def exploits(self) -> list[dict[str, Any]]:
        """A population sweep's exploits, oldest first: which member replaced which, from which donor and step,
        with the parameters before and after (see README "Population-based training")."""
        docs = self.client.ledger.exploits(self.id).values()
        return sorted(docs, key=lambda d: (d.get("time") or 0.0, d.get("replaces", 0)))

    def best_trials(self) -> list[dict[str, Any]]:
        """The Pareto front of a multi-objective sweep (completed trials no other beats on every objective), each
        with its objective values under "objectives"; for one objective, the best trial alone."""
        spec = self.spec
        if len(spec.objectives) <= 1:
            best = self.best_trial()
            return [] if best is None else [best]
        names, ranking = [o.name for o in spec.objectives], Ranking.of(spec.metric)
        scored = []
        for t in self.trials():
            ok = t["status"] == "completed" and t.get("feasible") is not False  # infeasible trials are off the front
            values = objective_values(t, names, ranking) if ok else None
            if values is not None:
                scored.append(({**t, "objectives": dict(zip(names, values, strict=True))}, values))
        return pareto_front(scored, [o.goal for o in spec.objectives])

    def metrics(self, trial: int | None = None) -> list[dict[str, Any]]:
        """Every intermediate report (trial, attempt, step, values, time), oldest first."""
        reports = read_reports(self.client.ledger.r, self.client.ledger.keys, self.id, trial)
        return [
            {"trial": r.trial, "attempt": r.attempt, "step": r.step, "values": r.values, "time": r.time} for r in reports
        ]

    def show(self) -> SweepView:
        """In Jupyter: the progress line, the five charts, the trials and the decisions (HyperDrive's RunDetails)."""
        return SweepView(self)

    def cancel(self) -> None:
        """End the sweep now: queued trials are canceled, running ones stopped (then killed after the grace)."""
        self._control({"cancel_requested": True})

    def stop(self) -> None:
        """End the sweep gently (W&B's stop): no new trials; running ones finish; then it is completed."""
        self._control({"stop_requested": True})

    def pause(self) -> None:
        """Start no new trials until resume(); running trials go on."""
        self._control({"paused": True})

    def resume(self) -> None:
        self._control({"paused": False})

    def _control(self, fields: dict[str, Any]) -> None:
        self.client.ledger.update_sweep(self.id, fields)
        self.client.ledger.notify_sweep(self.id)

    def done(self) -> bool:
        return self._doc().get("status") in ENDED

    def wait(self, timeout: float | None = None, progress: bool = True, poll: float = 0.5) -> dict[str, Any]:
        """Block until the sweep ends (TimeoutError after `timeout` seconds); shows a progress bar if asked."""
        from orchestrator.progress import watch

        return watch(self, timeout=timeout, progress=progress, poll=poll)


class SweepView:
    """What `Sweep.show()` returns: Jupyter renders it as the sweep's report (plotly.js inline, works offline)."""

    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep

    def _repr_html_(self) -> str:
        import html

        from orchestrator.dashboard.payload import sweep_payload
        from orchestrator.dashboard.render import report_page

        page = report_page(sweep_payload(self.sweep))
        return f'<iframe srcdoc="{html.escape(page)}" style="width:100%;height:1400px;border:0"></iframe>'
