"""Everything a sweep page shows, as one JSON-able document, built from a sweep's data held in memory.

`SweepData` holds what the page is built from (status, trial rows, each trial's curve, decisions); `build` turns
it into the page's document with downsampled charts (pure, no I/O). `load` reads a whole sweep once (the offline
report); the live dashboard keeps a `SweepData` up to date from what changed (`live.py`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator.client import decision_totals
from orchestrator.dashboard import downsample, figures, lineage
from orchestrator.export import importances
from orchestrator.ranking import RANKED, Ranking
from orchestrator.spec import SweepSpec

if TYPE_CHECKING:
    from orchestrator.client import Sweep

CHARTS = ("metrics", "parallel", "scatter2d", "scatter3d", "importance")
FINAL = ("completed", "stopped", "failed", "canceled")  # a trial in these states never changes again
DECISIONS_SHOWN = 500  # the latest decisions the page lists (the API's decisions() has them all)
IMPORTANCE_SAMPLE = 500  # fANOVA runs on at most this many finished trials, spread over the sweep
ROW_KEYS = (
    "number", "status", "value", "best", "reports", "attempt", "started", "ended", "worker", "gpu", "error", "feasible",
)
SORTABLE = (*ROW_KEYS, "seconds")


class Curves(Mapping[int, list[float]]):
    """Each trial's primary metric per interval; reports taken raw are decoded when their curve is first read (the
    first view of a sweep reads its whole stream, while the page draws only a few hundred curves)."""

    def __init__(self, metric: str) -> None:
        self.metric = metric
        plain = json.dumps(metric) == f'"{metric}"' and metric.isascii()
        self.key = f'"{metric}"'.encode() if plain else b""  # how the name shows in a report's JSON (b"": in all)
        self.decoded: dict[int, list[float]] = {}
        self.raw: dict[int, list[bytes]] = {}
        self.compacted: dict[int, tuple[list[bytes], bytes]] = {}  # a curve's elements, and the attempt to keep

    def __getitem__(self, trial: int) -> list[float]:
        elements, attempt = self.compacted.pop(trial, ([], b""))
        raw = [values for _, kept, _, _, _, values in (e.split(b"|", 5) for e in elements) if kept == attempt]
        raw += self.raw.pop(trial, [])
        curve = self.decoded.setdefault(trial, []) if raw or trial in self.decoded else self.decoded[trial]
        for doc in _decode_reports(raw):
            value = doc.get(self.metric)
            if isinstance(value, (int, float)):
                curve.append(float(value))
        return curve

    def __iter__(self) -> Iterator[int]:
        return iter(self.decoded.keys() | self.raw.keys() | self.compacted.keys())

    def __len__(self) -> int:
        return len(self.decoded.keys() | self.raw.keys() | self.compacted.keys())

    def restart(self, trial: int) -> None:
        self.raw.pop(trial, None)
        self.compacted.pop(trial, None)
        self.decoded[trial] = []

    def add_compacted(self, trial: int, elements: list[bytes], attempt: int) -> None:
        """A trial's compacted curve (`id|attempt|seq|step|time|values` elements), kept undecoded: only the
        reports of `attempt`, its latest, count (a curve is in stream order, and only the running attempt writes)."""
        self.compacted[trial] = (elements, str(attempt).encode())

    def append(self, trial: int, value: float) -> None:
        self[trial].append(value) if trial in self else self.decoded.setdefault(trial, []).append(value)

    def append_raw(self, trial: int, values: bytes) -> None:
        """A report's values as the stream holds them (JSON), kept undecoded if they may hold the metric."""
        if self.key in values:
            self.raw.setdefault(trial, []).append(values)


def _decode_reports(raw: list[bytes]) -> list[dict[str, Any]]:
    """Reports' values (each a JSON object) in one json.loads for the whole curve, several times faster than one
    each for the first view of a large sweep; one each whenever the joined text is not exactly those objects."""
    if len(raw) > 1:
        try:
            docs = json.loads(b"[" + b",".join(raw) + b"]")
        except ValueError:
            docs = None
        if isinstance(docs, list) and len(docs) == len(raw) and all(isinstance(d, dict) for d in docs):
            return docs
    return [json.loads(text) for text in raw]


@dataclass
class SweepData:
    """A sweep as the page needs it; `add_report` and `set_rows` keep it current from what changed."""

    status: dict[str, Any]
    spec: SweepSpec
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)  # the attempt each curve belongs to
    decisions: list[dict[str, Any]] = field(default_factory=list)
    decision_count: int = 0
    continues_counted: int = 0  # continue decisions only counted, not kept (see README "Decision storage")
    stop_count: int = 0
    series: Curves = field(init=False)
    first_steps: dict[int, int] = field(default_factory=dict)  # population sweeps: each trial's first step (attempt 1)
    last_steps: dict[int, int] = field(default_factory=dict)  # and the last step it reported (any attempt)

    def __post_init__(self) -> None:
        self.series = Curves(self.metric)
        self.population = self.spec.population is not None  # only a population sweep's steps are kept (its lineage)

    @property
    def metric(self) -> str:
        return "no metric" if self.spec.metric is None else self.spec.metric.name

    def set_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.rows[int(row["number"])] = row

    def _attempt(self, trial: int, attempt: int) -> bool:
        """Whether a report of this attempt belongs on the curve (a newer attempt starts the curve again)."""
        if attempt < self.attempts.get(trial, attempt):
            return False
        if attempt > self.attempts.get(trial, attempt):
            self.series.restart(trial)
        self.attempts[trial] = attempt
        return True

    def add_step(self, trial: int, attempt: int, step: int) -> None:
        """A report's step (population sweeps): where each member's segment of the lineage starts and ends."""
        if attempt == 1 and step < self.first_steps.get(trial, step + 1):
            self.first_steps[trial] = step
        if step > self.last_steps.get(trial, step - 1):
            self.last_steps[trial] = step

    def add_report(self, trial: int, attempt: int, values: Mapping[str, Any], step: int | None = None) -> None:
        """A report, in stream order."""
        if self.population and step is not None:
            self.add_step(trial, attempt, step)
        value = values.get(self.metric)
        if isinstance(value, (int, float)) and self._attempt(trial, attempt):
            self.series.append(trial, float(value))

    def add_raw_report(self, trial: int, attempt: int, values: bytes, step: bytes | str | None = None) -> None:
        """A report with its values as the stream's JSON text, decoded only if its curve is drawn (its step as the
        stream holds it, read for population sweeps only)."""
        if self.population and step is not None:
            self.add_step(trial, attempt, int(step))
        if self.series.key in values and self._attempt(trial, attempt):
            self.series.append_raw(trial, values)

    def add_curve(self, trial: int, elements: list[bytes]) -> None:
        """A trial's compacted curve, read before any of its reports (the first read of a sweep)."""
        if self.population:
            for element in elements:  # id|attempt|seq|step|...
                _, attempt_, _, step, _ = element.split(b"|", 4)
                self.add_step(trial, int(attempt_), int(step))
        if elements:
            attempt = int(elements[-1].split(b"|", 2)[1])
            if self._attempt(trial, attempt):
                self.series.add_compacted(trial, elements, attempt)

    def set_decisions(self, decisions: Sequence[dict[str, Any]], counted: int | None = None) -> None:
        """The kept decisions (the latest DECISIONS_SHOWN listed) and, when given, how many continue decisions
        were only counted, not kept (see README "Decision storage")."""
        self.decisions, self.decision_count = list(decisions[-DECISIONS_SHOWN:]), len(decisions)
        self.stop_count = sum(1 for d in decisions if d.get("stop"))
        if counted is not None:
            self.continues_counted = counted

    def decision_totals(self) -> dict[str, int]:
        """Stop and continue decisions in all, and how many of the continues are kept (the rest only counted)."""
        return decision_totals(self.stop_count, self.decision_count, self.continues_counted)


def table_row(t: Mapping[str, Any], images: Sequence[str] = ()) -> dict[str, Any]:
    """A trial as a row of the page's table."""
    row = {k: t.get(k) for k in ROW_KEYS}
    row["params"] = t.get("params") or {}
    row["seconds"] = t["ended"] - t["started"] if t.get("ended") and t.get("started") else None
    row["lineage"] = lineage.described(t.get("lineage"))
    row["images"] = list(images)
    return row


def images_of(record: Mapping[str, Any]) -> list[str]:
    """The images a trial of a HyperDrive-style sweep logged (`Run.log_image`)."""
    logged = record.get("logged")
    images = logged.get("images") if isinstance(logged, dict) else None
    return [p for paths in (images or {}).values() for p in paths]


def weights(data: SweepData) -> dict[str, float]:
    """Parameter importances from at most IMPORTANCE_SAMPLE finished trials spread evenly over the sweep."""
    finished = [t for _, t in sorted(data.rows.items()) if t["status"] in RANKED]
    return importances(data.spec, downsample.spread(finished, IMPORTANCE_SAMPLE))


def best_of(data: SweepData) -> dict[str, Any] | None:
    """The best finished trial, ranked as `Sweep.best_trial` ranks it; None without a metric. The scheduler keeps
    it in the sweep's status (O(1)); it is ranked here when the status lacks it, and always for a population sweep
    (few trials, and ties are common there: a copy continues its donor's checkpoint; `best_trial` takes the first
    by number where the status keeps the first to finish, and the page shows `best_trial`'s member's schedule)."""
    ranking = Ranking.of(data.spec.metric)
    if ranking is None:
        return None
    known = None if data.population else data.status.get("best")
    if isinstance(known, dict) and (row := data.rows.get(known.get("number", -1))) is not None:
        return {"number": row["number"], "value": ranking.score(row), "params": row["params"]}
    scored = [(v, t) for t in data.rows.values() if t["status"] in RANKED and (v := ranking.score(t)) is not None]
    best = ranking.pick(sorted(scored, key=lambda vt: int(vt[1]["number"])))
    return None if best is None else {"number": best["number"], "value": ranking.score(best), "params": best["params"]}


def lineage_of(data: SweepData, best: Mapping[str, Any] | None, goal: str) -> dict[str, Any] | None:
    """A population sweep's lineage section (bounded: see `lineage`); None for any other sweep."""
    if not data.population:
        return None
    number = None if best is None else int(best["number"])
    return lineage.view(data.rows, data.first_steps, data.last_steps, number, goal)


def build(
    data: SweepData, axes2: Sequence[str] = (), axes3: Sequence[str] = (), importance: Mapping[str, float] | None = None,
    *, with_rows: bool = True,
) -> dict[str, Any]:
    """The page's document: status, best trial, the five (downsampled) charts, the latest decisions, and the trial
    rows (the live page leaves them out and pages them through the trials API instead)."""
    ranking = Ranking.of(data.spec.metric)
    goal = "maximize" if ranking is None else ranking.goal
    trials = [t for _, t in sorted(data.rows.items())]
    weights_ = dict(importance or {})
    preferred = [name for name, _ in sorted(weights_.items(), key=lambda kv: -kv[1])]
    names = figures.param_names(trials)
    axes2 = list(axes2) or figures.default_axes(trials, 2, preferred, names)
    axes3 = list(axes3) or figures.default_axes(trials, 3, preferred, names)
    metric, sampled, best = data.metric, figures.sample(trials, goal), best_of(data)
    return {
        "status": data.status, "elapsed": elapsed(data.status), "metric": metric, "goal": goal,
        "has_metric": ranking is not None, "policy": data.spec.early_termination.policy,
        "constrained": bool(ranking and ranking.constraints), "population": data.population,
        "params": names, "axes2": axes2, "axes3": axes3,
        "trial_count": len(trials),
        **({"trials": [table_row(t, t.get("images") or ()) for t in trials]} if with_rows else {}),
        "decisions": data.decisions, "decision_count": data.decision_count, "decision_totals": data.decision_totals(),
        "best": best, "lineage": lineage_of(data, best, goal),
        "charts": {
            "metrics": figures.curves_chart(data.series, trials, metric, goal),
            "parallel": figures.parallel_coordinates(trials, metric, goal, sampled, names),
            "scatter2d": figures.scatter_2d(trials, metric, goal, axes2, sampled),
            "scatter3d": figures.scatter_3d(trials, metric, goal, axes3, sampled),
            "importance": figures.importance_chart(weights_),
        },
    }


def ordered(rows: Iterable[Mapping[str, Any]], sort: str = "number", desc: bool = False) -> list[Mapping[str, Any]]:
    """Rows sorted by a column (numbers, then text; trials without a value in it last, by number)."""
    key = sort if sort in SORTABLE else "number"
    by_number = sorted(rows, key=lambda r: int(r["number"]))
    valued = [r for r in by_number if isinstance(r.get(key), (int, float, str))]
    valued.sort(key=lambda r: (isinstance(r[key], str), r[key]), reverse=desc)  # numbers, then text
    return valued + [r for r in by_number if not isinstance(r.get(key), (int, float, str))]


def table_page(
    rows: Iterable[Mapping[str, Any]], offset: int = 0, limit: int = 50, sort: str = "number", desc: bool = False,
    *, presorted: bool = False,
) -> dict[str, Any]:
    """One page of the trials table sorted by a column (see `ordered`; `presorted`: the rows are in that order
    already), and the total."""
    key = sort if sort in SORTABLE else "number"
    rows = list(rows) if presorted else ordered(rows, key, desc)
    offset, limit = max(0, offset), max(1, min(limit, 1000))
    return {"total": len(rows), "offset": offset, "limit": limit, "sort": key, "desc": desc,
            "rows": [table_row(r, r.get("images") or ()) for r in rows[offset: offset + limit]]}


def load(sweep: Sweep) -> SweepData:
    """A whole sweep read once: trials in pipelined batches, the metric stream, the decisions."""
    data = SweepData(status=sweep.status(), spec=sweep.spec)
    workdirs = bool(getattr(data.spec.trial, "per_trial_workdir", False))
    for records in sweep.iter_records():
        rows = sweep.rows(records, data.spec)
        data.set_rows(row | {"images": images_of(rec) if workdirs else []} for row, rec in zip(rows, records, strict=True))
    for r in sweep.metrics():
        data.add_report(r["trial"], r["attempt"], r["values"] or {}, r["step"])
    data.set_decisions(sweep.decisions(), sweep.continues_counted())
    return data


def sweep_payload(sweep: Sweep, axes2: Sequence[str] = (), axes3: Sequence[str] = ()) -> dict[str, Any]:
    """The whole page of one sweep (the offline report and `Sweep.show()`): the rows embedded, charts downsampled."""
    data = load(sweep)
    return build(data, axes2, axes3, weights(data))


def elapsed(status: dict[str, Any]) -> float:
    """Seconds the sweep has run (until now, or until it ended)."""
    started = status.get("started") or status.get("created") or time.time()
    return float((status.get("ended") or time.time()) - started)
