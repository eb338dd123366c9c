"""Fault scenarios on real Redis and real `sweepq` processes, shared by tests/faults and benchmarks/faults.py.

Each scenario runs a sweep, injects its fault, lets the sweep finish and returns an Audit: what the ledger and
the metric stream say was lost, duplicated or left stuck, and how long the sweep took to make progress again.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from orchestrator.client import Sweep
from orchestrator.store.streams import Report, read_reports
from tests.faults.private_redis import PrivateRedis
from tests.integration.conftest import Cluster, wait_until

SLOW = "tests.integration.trials:slow"  # ten reports, 0.2 s apart, returns x
SLOW_STEPS = 10


@dataclass
class Audit:
    """What one fault run left behind (every count should be 0, re-runs only where a retry is the remedy)."""

    fault: str
    trials_lost: int = 0  # expected trials that did not end `completed`
    results_lost: int = 0  # completed trials without their value or with missing reports of their final attempt
    duplicates: int = 0  # stream entries repeated for one (trial, attempt, seq), or written by a reaped attempt
    stuck: int = 0  # trials still queued or running when the sweep ended
    reruns: int = 0  # attempts beyond the first
    recover_s: float | None = None  # from the end of the fault to the next trial completion
    dead_processes: int = 0  # scheduler or worker processes that did not survive the fault
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.trials_lost or self.results_lost or self.duplicates or self.stuck)


def audit(fault: str, sweep: Sweep, cluster: Cluster, runs: int, fault_end: float | None) -> Audit:
    """Compare the finished sweep with what it should hold: `runs` completed trials with SLOW_STEPS reports each."""
    trials = sweep.trials()
    reports = read_reports(cluster.client.ledger.r, cluster.client.ledger.keys, sweep.id)
    by_trial: dict[int, list[Report]] = collections.defaultdict(list)
    for r in reports:
        by_trial[r.trial].append(r)
    a = Audit(fault)
    numbers = {int(t["number"]) for t in trials}
    a.trials_lost = runs - sum(1 for t in trials if t["status"] == "completed") + len(numbers - set(range(runs)))
    a.stuck = sum(1 for t in trials if t["status"] in ("queued", "running"))
    a.reruns = sum(int(t.get("attempt", 1)) - 1 for t in trials)
    for t in trials:
        own = by_trial.get(int(t["number"]), [])
        final = [r for r in own if r.attempt == t.get("attempt", 1)]
        if t["status"] == "completed" and (t.get("value") is None or len({r.step for r in final}) < SLOW_STEPS):
            a.results_lost += 1
        a.duplicates += len(own) - len({(r.attempt, _seq(r)) for r in own})
        a.duplicates += _stale_entries(own)
    ended = [float(t["ended"]) for t in trials if t.get("ended") and fault_end is not None and t["ended"] > fault_end]
    if fault_end is not None and ended:
        a.recover_s = round(min(ended) - fault_end, 2)
    return a


def _seq(report: Report) -> Any:
    return report.step if report.seq is None else report.seq


def _stale_entries(reports: list[Report]) -> int:
    """Entries of an attempt written after a later attempt of the same trial had started reporting."""
    first_of: dict[int, float] = {}
    for r in reports:
        first_of.setdefault(r.attempt, r.time)
    return sum(1 for r in reports if any(a > r.attempt and t < r.time for a, t in first_of.items()))


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def completed(sweep: Sweep) -> int:
    return int((sweep.status().get("counts") or {}).get("completed", 0))


def redis_outage(cluster: Cluster, server: PrivateRedis, *, runs: int = 12, down_s: float = 8.0) -> Audit:
    """SIGKILL the sweep's Redis (AOF on) mid-sweep and start it again `down_s` later on the same port and folder.

    The lease (20 s here, 60 s by default) is longer than the outage: a worker that cannot renew stops its trial
    only when its lease would end, so an outage shorter than the lease must cost nothing.
    """
    cluster.env["SWEEPQ_LEASE_SECONDS"] = "20"
    processes = [cluster.scheduler(), cluster.worker(2), cluster.worker(2)]
    spec = cluster.spec(trial={"function": SLOW}, limits={"max_total_runs": runs, "max_concurrent_runs": 4})
    sweep = cluster.client.submit(spec)
    wait_until(lambda: completed(sweep) >= 2 and _running(sweep) >= 2, 90, "trials completed and running")
    server.kill()
    time.sleep(down_s)
    server.start()
    back = time.time()
    final = sweep.wait(timeout=120, progress=False)
    a = audit("redis restart (AOF)", sweep, cluster, runs, back)
    a.dead_processes = sum(p.poll() is not None for p in processes)
    a.notes.append(f"sweep {final['status']}")
    return a


def _running(sweep: Sweep) -> int:
    return int((sweep.status().get("counts") or {}).get("running", 0))


def stale_attempt(cluster: Cluster, *, pause_s: float | None = None) -> tuple[Audit, dict[str, Any]]:
    """SIGSTOP a worker's whole process group mid-trial for longer than the lease, let the retry finish on another
    worker, then SIGCONT it: the stale attempt must write nothing and stop. Returns the audit and evidence."""
    lease = float(cluster.env["SWEEPQ_LEASE_SECONDS"])
    cluster.scheduler()
    frozen = cluster.worker(1, None, "--name", f"frozen-{cluster.prefix}@%h")
    spec = cluster.spec(trial={"function": SLOW}, limits={"max_total_runs": 3, "max_concurrent_runs": 1, "max_retries": 1})
    sweep = cluster.client.submit(spec)
    victim = wait_until(
        lambda: next((t for t in cluster.client.ledger.trials(sweep.id) if t["status"] == "running" and t.get("reports", 0) >= 2), None),
        60, "a trial reporting on the worker to freeze",
    )
    os.killpg(frozen.pid, signal.SIGSTOP)
    frozen_at = time.time()
    cluster.worker(1, None, "--name", f"rescuer-{cluster.prefix}@%h")
    number = int(victim["number"])
    retried = wait_until(
        lambda: next((t for t in sweep.trials() if t["number"] == number and t["status"] == "completed"), None),
        lease + 60, "the retry of the frozen trial to complete",
    )
    time.sleep(max(0.0, (pause_s or 0) - (time.time() - frozen_at)))
    before = evidence(cluster, sweep, number)
    os.killpg(frozen.pid, signal.SIGCONT)
    thawed = time.time()
    time.sleep(3.0)  # the stale attempt's next report and heartbeat happen now
    after = evidence(cluster, sweep, number)
    final = sweep.wait(timeout=60, progress=False)
    a = audit("stale attempt (SIGSTOP > lease)", sweep, cluster, 3, thawed)
    ev = {"before": before, "after": after, "retried": retried, "final": final, "frozen_s": thawed - frozen_at,
                "frozen_pid": frozen.pid}
    return a, ev


def evidence(cluster: Cluster, sweep: Sweep, number: int) -> dict[str, Any]:
    record = cluster.client.ledger.trial(sweep.id, number) or {}
    reports = read_reports(cluster.client.ledger.r, cluster.client.ledger.keys, sweep.id, number)
    keep = ("status", "attempt", "best", "last", "reports", "value", "report_seq", "ended", "worker")
    return {"record": {k: record.get(k) for k in keep}, "entries": [(r.attempt, r.step) for r in reports]}
