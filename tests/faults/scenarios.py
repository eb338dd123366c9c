"""Fault scenarios on real Redis and real `sweepq` processes, shared by tests/faults and benchmarks/faults.py.

Each scenario runs a sweep, injects its fault, lets the sweep finish and returns an Audit: what the ledger and
the metric stream say was lost, duplicated or left stuck, and how long the sweep took to make progress again.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from orchestrator.client import Sweep
from orchestrator.store.streams import Report, read_reports
from tests.faults.private_redis import PrivateRedis
from tests.integration.conftest import ROOT, SWEEPQ, Cluster, wait_until

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


def redis_outage(
    cluster: Cluster, server: PrivateRedis, *, runs: int = 12, down_s: float = 8.0, lease_s: float = 20.0
) -> Audit:
    """SIGKILL the sweep's Redis (AOF on) mid-sweep and start it again `down_s` later on the same port and folder.

    The lease (20 s here, 60 s by default) is longer than the outage: a worker that cannot renew stops its trial
    only when its lease would end, so an outage shorter than the lease must cost nothing.
    """
    cluster.env["SWEEPQ_LEASE_SECONDS"] = str(lease_s)
    processes = [cluster.scheduler(), cluster.worker(2), cluster.worker(2)]
    spec = cluster.spec(trial={"function": SLOW}, limits={"max_total_runs": runs, "max_concurrent_runs": 4})
    sweep = cluster.client.submit(spec)
    wait_until(lambda: completed(sweep) >= 2 and _running(sweep) >= 2, 90, "trials completed and running")
    server.kill()
    time.sleep(down_s)
    server.start()
    back = time.time()
    final = sweep.wait(timeout=120, progress=False)
    a = audit(f"redis SIGKILL, back after {down_s:g} s (AOF)", sweep, cluster, runs, back)
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


class Unavailable(Exception):
    """This machine cannot run the scenario (the reason is the message)."""


@dataclass
class Namespace:
    """A network namespace joined to the host by a veth pair: host side `host_ip`, namespace side `ns_ip`."""

    name: str
    host_dev: str
    host_ip: str

    def spawn(self, cluster: Cluster, *args: str, log: str) -> subprocess.Popen[bytes]:
        out = open(cluster.tmp / log, "ab")  # noqa: SIM115
        argv = ["ip", "netns", "exec", self.name, *SWEEPQ, *args]
        proc = subprocess.Popen(argv, env=cluster.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        out.close()
        cluster.procs.append(proc)
        return proc

    def link(self, up: bool) -> None:
        """Take the host side of the link down (packets wait in the kernel's retransmit queue) or bring it back."""
        _ip("link", "set", self.host_dev, "up" if up else "down")


def _ip(*args: str, netns: str | None = None) -> None:
    prefix = ["ip", "-n", netns] if netns else ["ip"]
    subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=10)


@contextlib.contextmanager
def network_namespace() -> Iterator[Namespace]:
    """Create a namespace and veth pair, or raise Unavailable saying why the machine cannot."""
    if shutil.which("ip") is None:
        raise Unavailable("no `ip` command (iproute2): cannot create a network namespace for a worker host")
    if os.geteuid() != 0:
        raise Unavailable("creating network namespaces needs root (CAP_NET_ADMIN)")
    tag = uuid.uuid4().hex[:6]
    name, host_dev, ns_dev = f"sq{tag}", f"vh{tag}", f"vn{tag}"
    octet = int(tag[:2], 16)
    host_ip, ns_ip = f"10.213.{octet}.1", f"10.213.{octet}.2"
    try:
        _ip("netns", "add", name)
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", None) or exc
        raise Unavailable(f"this machine cannot create a network namespace ({detail!r})") from exc
    try:
        _ip("link", "add", host_dev, "type", "veth", "peer", "name", ns_dev)
        _ip("link", "set", ns_dev, "netns", name)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_dev)
        _ip("link", "set", host_dev, "up")
        _ip("addr", "add", f"{ns_ip}/30", "dev", ns_dev, netns=name)
        _ip("link", "set", ns_dev, "up", netns=name)
        _ip("link", "set", "lo", "up", netns=name)
        yield Namespace(name, host_dev, host_ip)
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            _ip("link", "del", host_dev)
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            _ip("netns", "del", name)


def partition(cluster: Cluster, net: Namespace) -> tuple[Audit, dict[str, Any]]:
    """A worker host in its own network namespace loses its link to Redis for twice the lease while its trial runs;
    another worker retries the trial; then the link comes back and the kernel delivers what the cut-off worker had
    sent. Returns the audit and evidence (the trial and its stream just before and 3 s after the link returned)."""
    lease = float(cluster.env["SWEEPQ_LEASE_SECONDS"])
    cluster.env["SWEEPQ_REDIS_SOCKET_TIMEOUT"] = "1"  # the cut-off worker's calls fail fast (the default is 10 s)
    cluster.scheduler()
    cut = net.spawn(cluster, "worker", "--queues", cluster.queue, "--concurrency", "1", "--loglevel", "WARNING",
                    "--name", f"cut-{cluster.prefix}@%h", log="worker-cut.log")
    spec = cluster.spec(trial={"function": SLOW}, limits={"max_total_runs": 3, "max_concurrent_runs": 1, "max_retries": 1})
    sweep = cluster.client.submit(spec)
    number = int(_reporting_trial(cluster, sweep)["number"])
    net.link(up=False)
    cut_at = time.monotonic()
    cluster.worker(1, None, "--name", f"rescuer-{cluster.prefix}@%h")
    wait_until(lambda: "until the lease ran out" in (cluster.tmp / "worker-cut.log").read_text(), lease + 10,
               "the cut-off worker to stop its trial")
    stopped_after = time.monotonic() - cut_at
    ledger = cluster.client.ledger
    retried = wait_until(
        lambda: next((t for t in ledger.trials(sweep.id) if t["number"] == number and t["status"] == "completed"), None),
        lease + 60, "the retry to complete",
    )
    time.sleep(max(0.0, 2 * lease - (time.monotonic() - cut_at)))  # cut off for at least twice the lease
    before = evidence(cluster, sweep, number)
    net.link(up=True)
    back = time.time()
    time.sleep(3.0)
    after = evidence(cluster, sweep, number)
    final = sweep.wait(timeout=60, progress=False)
    a = audit("worker host partitioned (netns, 2x lease)", sweep, cluster, 3, back)
    a.dead_processes = int(cut.poll() is not None)
    a.duplicates += int(after != before)
    ev = {"before": before, "after": after, "retried": retried, "final": final, "stopped_after": stopped_after}
    return a, ev


def _reporting_trial(cluster: Cluster, sweep: Sweep, worker_prefix: str = "") -> dict[str, Any]:
    ledger = cluster.client.ledger
    return wait_until(  # type: ignore[no-any-return]
        lambda: next((t for t in ledger.trials(sweep.id) if t["status"] == "running" and t.get("reports", 0) >= 2
                      and str(t.get("worker") or "").startswith(worker_prefix)), None),
        90, "a running trial that has reported",
    )


COMMAND = (
    "import json, os, time\n"
    "x = json.loads(os.environ['SWEEPQ_PARAMS'])['x']\n"
    "for step in range(1, 11):\n"
    "    time.sleep(0.2)\n"
    "    print(f'score={x * step} step={step}', flush=True)\n"
)


def worker_kill(cluster: Cluster, *, command: bool = False, runs: int = 6) -> Audit:
    """SIGKILL a worker's whole process group (main and pool processes) mid-trial; a second worker takes over."""
    trial: dict[str, Any] = {"function": SLOW}
    if command:
        trial = {"command": [sys.executable, "-c", COMMAND]}
    cluster.scheduler()
    doomed = cluster.worker(1, None, "--name", f"doomed-{cluster.prefix}@%h")
    spec = cluster.spec(trial=trial, limits={"max_total_runs": runs, "max_concurrent_runs": 2, "max_retries": 1})
    sweep = cluster.client.submit(spec)
    _reporting_trial(cluster, sweep, "doomed")
    kill_group(doomed)
    killed = time.time()
    cluster.worker(1, None, "--name", f"survivor-{cluster.prefix}@%h")
    sweep.wait(timeout=120, progress=False)
    return audit(f"worker SIGKILL ({'command' if command else 'python'} trials)", sweep, cluster, runs, killed)


def pool_child_kill(cluster: Cluster, *, runs: int = 6) -> Audit:
    """SIGKILL the pool process running a trial; Celery replaces it and the lease brings the trial back."""
    cluster.scheduler()
    cluster.worker(2)
    spec = cluster.spec(trial={"function": SLOW}, limits={"max_total_runs": runs, "max_concurrent_runs": 2, "max_retries": 1})
    sweep = cluster.client.submit(spec)
    victim = _reporting_trial(cluster, sweep)
    os.kill(int(victim["pid"]), signal.SIGKILL)
    killed = time.time()
    sweep.wait(timeout=120, progress=False)
    return audit("pool process SIGKILL", sweep, cluster, runs, killed)


def scheduler_kill(cluster: Cluster, *, runs: int = 12) -> Audit:
    """SIGKILL the scheduler (and its evaluator) mid-sweep and start another one a second later."""
    first = cluster.scheduler()
    cluster.worker(2)
    spec = cluster.spec(trial={"function": SLOW}, limits={"max_total_runs": runs, "max_concurrent_runs": 2})
    sweep = cluster.client.submit(spec)
    wait_until(lambda: completed(sweep) >= 2, 90, "a few completed trials")
    kill_group(first)
    time.sleep(1.0)
    cluster.scheduler()
    restarted = time.time()
    sweep.wait(timeout=120, progress=False)
    return audit("scheduler SIGKILL", sweep, cluster, runs, restarted)


def evaluator_kill(cluster: Cluster, *, runs: int = 8) -> Audit:
    """SIGKILL a standalone evaluator mid-sweep and start another: every report is still read and acknowledged."""
    cluster.env["SWEEPQ_KEEP_CONTINUE_DECISIONS"] = "true"  # every decision listed, so the first ones show
    cluster.spawn("scheduler", "--no-evaluator", log="scheduler.log")
    first = cluster.spawn("evaluator", log="evaluator-1.log")
    cluster.worker(2)
    policy = {"policy": "bandit", "slack_factor": 100, "evaluation_interval": 1}  # evaluates every report, stops none
    spec = cluster.spec(trial={"function": SLOW}, early_termination=policy,
                        limits={"max_total_runs": runs, "max_concurrent_runs": 2})
    sweep = cluster.client.submit(spec)
    wait_until(lambda: len(sweep.decisions()) >= 10, 90, "the evaluator's first decisions")
    kill_group(first)
    time.sleep(1.0)
    cluster.spawn("evaluator", log="evaluator-2.log")
    restarted = time.time()
    sweep.wait(timeout=120, progress=False)
    a = audit("evaluator SIGKILL", sweep, cluster, runs, restarted)
    with contextlib.suppress(AssertionError):
        wait_until(lambda: unevaluated(cluster, sweep) == 0, 30, "the evaluator to consume every report")
    a.results_lost += unevaluated(cluster, sweep)  # reports never read, or read and never acknowledged
    return a


def unevaluated(cluster: Cluster, sweep: Sweep) -> int:
    """Stream entries the evaluator's group has not delivered, plus those delivered but never acknowledged."""
    r, key = cluster.client.ledger.r, cluster.client.ledger.keys.metrics(sweep.id)
    groups: Any = r.xinfo_groups(key)
    group = next(g for g in groups if g["name"] in (b"evaluator", "evaluator"))
    last = group["last-delivered-id"]
    unread: Any = r.xrange(key, min="(" + (last.decode() if isinstance(last, bytes) else str(last)), max="+")
    return len(unread) + int(group["pending"])
