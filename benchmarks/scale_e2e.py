"""Scale end to end: real `sweepq scheduler --no-evaluator`, `sweepq evaluator` and `sweepq worker` processes on a
private redis-server (a free port, no persistence), running sweeps of 100, 1,000 and 10,000 (with --max, 100,000)
no-op trials that each report 10 metrics `--gap` seconds apart, with an early-termination policy on and 64 trials in
flight (max_concurrent_runs 64, a worker with 64 processes unless --procs).

    .venv/bin/python -m benchmarks.scale_e2e [--max 10000] [--policy median] [--gap 0.02] [--procs 64] [--profile DIR]
        [--worker-nice N]
    (also: python -m benchmarks.scale --e2e)

Per sweep it prints trials/s per tenth of the sweep (tenths of the trials by end time; the first from the sweep's
start) and last/first; the decision lag (report reached Redis -> decided: the evaluator runs with
SWEEPQ_KEEP_CONTINUE_DECISIONS=true so every decision is stored with its report's stream time `reported` and its
`time`); the stop latency (a stop decision's report reached Redis -> the stopped trial's ledger `ended`); evaluator
decisions/s (while the sweep ran, and per evaluator CPU second); CPU ms per trial of each process group; and the
ratios to the 100-trial sweep; and how long the evaluator waited for a CPU (a 2-core machine that runs 64 trials
beside it starves it at times: --worker-nice shows the evaluator with the CPU first). --profile DIR runs the
scheduler and the evaluator under cProfile.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.cli_processes import COMPACT_VALUE_BYTES
from orchestrator.client import ENDED, Sweep, SweepClient
from orchestrator.local import find_redis_server, free_port, stop_group, wait_for_redis

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100, 1_000, 10_000, 100_000)
IN_FLIGHT = 64
QUEUE = "bench-e2e"
REPORTS = 10
TARGET_AT = 10_000
TARGETS = {"tenths": 0.9, "lag_p99": 0.100, "stop_p99": 0.250}
POLICIES: dict[str, dict[str, Any]] = {
    "median": {"policy": "median", "delay_evaluation": 3},
    "asha": {"policy": "asha", "min_resource": 1, "reduction_factor": 3},
    "bandit": {"policy": "bandit", "slack_factor": 0.1, "delay_evaluation": 3},
    "truncation": {"policy": "truncation", "truncation_percentage": 20, "delay_evaluation": 3},
    "hyperband": {"policy": "hyperband", "max_iter": 10, "s": 3},
}
GROUPS = ("redis", "scheduler", "evaluator", "worker")
TICK = os.sysconf("SC_CLK_TCK")


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes in a process group, read from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # after the name: state, ppid, pgrp, ..., utime (12th), stime (13th)
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def run_delay(pid: int) -> float:
    """Seconds the threads of a process have waited in the run queue (runnable, no CPU free): /proc schedstat."""
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


class Waits(threading.Thread):
    """Samples a process's run-queue wait every 0.1 s while a sweep runs: a decision that lags while its evaluator
    waited for a CPU is the machine's doing, not the evaluator's."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.done = pid, [(time.time(), run_delay(pid))], threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            self.samples.append((time.time(), run_delay(self.pid)))

    def stop(self) -> tuple[float, float, float]:
        """The total wait, the most in any 1 s window, and when that window began (seconds since the epoch)."""
        self.done.set()
        self.join()
        s = self.samples
        windows = [(b[1] - a[1], a[0]) for i, a in enumerate(s) for b in s[i + 1 : i + 11] if b[0] - a[0] <= 1.05]
        worst, at = max(windows, default=(0.0, s[0][0]))
        return s[-1][1] - s[0][1], worst, at


@dataclass
class Cluster:
    """The processes of one run; each in its own session (so a group is one component), logs in a temp folder."""

    folder: Path
    url: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        with open(self.folder / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                env=env, cwd=ROOT, start_new_session=True)

    def cpu(self) -> dict[str, float]:
        return {name: group_cpu(p.pid) for name, p in self.procs.items()}

    def check(self) -> None:
        """Fail with the log's tail when a component died."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.folder / f"{name}.log").read_text(errors="replace").splitlines()[-20:]
                raise SystemExit(f"{name} exited with {proc.returncode}:\n" + "\n".join(tail))


@contextmanager
def cluster(procs: int, profile: Path | None, worker_nice: int = 0) -> Iterator[Cluster]:
    """A private redis-server, a scheduler without evaluator, an evaluator that keeps every decision, one worker."""
    with tempfile.TemporaryDirectory(prefix="sweepq-e2e-") as tmp:
        c = Cluster(Path(tmp))
        try:
            port = free_port()
            c.spawn("redis", [find_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--save",
                              "", "--appendonly", "no", "--maxmemory-policy", "noeviction", "--hash-max-listpack-value",
                              str(COMPACT_VALUE_BYTES)], dict(os.environ))
            c.url = f"redis://127.0.0.1:{port}/0"
            wait_for_redis(c.url)
            env = {**os.environ, "PYTHONPATH": str(ROOT), "SWEEPQ_REDIS_URL": c.url,
                   "SWEEPQ_ARTIFACT_ROOT": str(c.folder / "artifacts"), "SWEEPQ_KEEP_CONTINUE_DECISIONS": "true"}
            for name in ("scheduler", "evaluator"):
                run = ["-m", "cProfile", "-o", str(profile / f"{name}.prof")] if profile else []
                extra = ["--no-evaluator"] if name == "scheduler" else []
                c.spawn(name, [sys.executable, *run, "-m", "orchestrator.cli", name, "--loglevel", "WARNING", *extra], env)
            nice = ["nice", "-n", str(worker_nice)] if worker_nice else []
            c.spawn("worker", [*nice, sys.executable, "-m", "orchestrator.cli", "worker", "--queues", QUEUE, "--concurrency",
                               str(procs), "--loglevel", "WARNING"], env)
            yield c
        finally:
            for name in ("worker", "scheduler", "evaluator", "redis"):
                if name in c.procs:
                    stop_group(c.procs[name])


def spec(trials: int, policy: str, gap: float) -> dict[str, Any]:
    return {
        "name": f"e2e-{trials}", "trial": {"function": "benchmarks.noop:paced"},
        "parameters": {"x": {"uniform": [0, 1]}, "gap": {"choice": [gap]}},
        "metric": {"name": "score", "goal": "maximize"}, "early_termination": POLICIES[policy],
        "limits": {"max_total_runs": trials, "max_concurrent_runs": IN_FLIGHT}, "resources": {"queue": QUEUE},
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile (NaN for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def tenths(ends: Sequence[float], start: float) -> list[float]:
    """Trials/s in each tenth of the trials by end time; the first tenth is timed from the sweep's start."""
    ordered, n = sorted(ends), len(ends)
    bounds = [start] + [ordered[max((k * n) // 10 - 1, 0)] for k in range(1, 11)]
    counts = [(k + 1) * n // 10 - k * n // 10 for k in range(10)]
    return [c / max(bounds[k + 1] - bounds[k], 1e-6) for k, c in enumerate(counts)]


@dataclass
class Sample:
    """What one sweep measured."""

    trials: int
    seconds: float
    rates: list[float]
    lags: list[float]
    lag_tenths: list[float]  # p99 of the decision lag in each tenth of the decisions by report time: growing = backlog
    stop_lags: list[float]
    reports: int
    decisions: int
    stops: int
    stopped: int
    late_stops: int  # stop decisions of trials that ended on their own (the decision came after its last report)
    at_last: int  # of those, the decisions on a trial's last report (it ends then anyway)
    counts: dict[str, int]
    cpu: dict[str, float]
    decision_span: float
    waited: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the evaluator's run-queue wait: in all, the most in 1 s, when
    worst_lag_at: float = 0.0  # when the report with the longest decision lag reached Redis (seconds since the sweep began)

    @property
    def rate(self) -> float:
        return self.trials / self.seconds

    @property
    def decision_rate(self) -> float:
        return self.decisions / max(self.decision_span, 1e-6)


def wait(sweep: Sweep, c: Cluster, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (status := sweep.status())["status"] not in ENDED:
        c.check()
        if time.monotonic() > deadline:
            raise SystemExit(f"sweep of {sweep.id} did not end within {timeout:.0f} s: {status}")
        time.sleep(0.5)
    return status


def measure(c: Cluster, client: SweepClient, trials: int, policy: str, gap: float) -> Sample:
    """Run one sweep to its end, then read its trials and decisions back from the ledger."""
    before, waits = c.cpu(), Waits(c.procs["evaluator"].pid)
    waits.start()
    sweep = client.submit(spec(trials, policy, gap))
    status = wait(sweep, c, timeout=max(600.0, trials * 0.5))
    cpu, waited = {k: v - before.get(k, 0.0) for k, v in c.cpu().items()}, waits.stop()
    time.sleep(1.0)  # the evaluator's last batch
    return read_back(sweep, float(status["started"]), dict(status["counts"] or {}), cpu, waited)


def read_back(
    sweep: Sweep, started: float, counts: dict[str, int], cpu: dict[str, float], waited: tuple[float, float, float]
) -> Sample:
    """A finished sweep's figures from its ledger records and decision docs."""
    rows = {int(r["number"]): r for r in sweep.iter_trials()}
    docs = sweep.decisions()
    ends = [float(r["ended"]) for r in rows.values() if r.get("ended")]
    stops = [d for d in docs if d["stop"]]
    stop_lags = [float(rows[d["trial"]]["ended"]) - float(d["reported"]) for d in stops
                 if rows.get(d["trial"], {}).get("status") == "stopped" and d.get("reported")]
    times = [float(d["time"]) for d in docs]
    timed = sorted((float(d["reported"]), float(d["time"]) - float(d["reported"])) for d in docs if d.get("reported"))
    lags = [lag for _, lag in timed]
    worst_at = max(timed, key=lambda t: t[1], default=(started, 0.0))[0]
    at_last = sum(1 for d in stops if d["interval"] == REPORTS and rows.get(d["trial"], {}).get("status") != "stopped")
    return Sample(
        trials=len(rows), seconds=max(ends) - started, rates=tenths(ends, started),
        lags=lags, lag_tenths=[percentile(lags[k * len(lags) // 10 : (k + 1) * len(lags) // 10], 99) for k in range(10)],
        stop_lags=stop_lags, reports=sum(int(r.get("reports") or 0) for r in rows.values()), decisions=len(docs),
        stops=len(stops), stopped=len(stop_lags), late_stops=len(stops) - len(stop_lags), at_last=at_last,
        counts=counts, cpu=cpu, decision_span=(max(times) - min(times)) if times else 0.0,
        waited=(waited[0], waited[1], waited[2] - started), worst_lag_at=worst_at - started,
    )


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.0f}"


def print_sample(s: Sample, base: Sample) -> None:
    """One sweep's figures, and its ratios to the first (100-trial) sweep."""
    lag50, lag99, stop99 = percentile(s.lags, 50), percentile(s.lags, 99), percentile(s.stop_lags, 99)
    eval_cpu = max(s.cpu.get("evaluator", 0.0), 1e-6)
    print(f"\n{s.trials:,} trials in {s.seconds:.1f} s: {s.rate:.1f} trials/s; ended {s.counts}")
    print("  trials/s per tenth: " + " ".join(f"{r:.1f}" for r in s.rates)
          + f"   last/first {s.rates[-1] / s.rates[0]:.2f}")
    print(f"  decision lag p50 {ms(lag50)} ms, p99 {ms(lag99)} ms, max {ms(max(s.lags, default=math.nan))} ms "
          f"({s.decisions:,} decisions); p99 per tenth of the sweep: " + " ".join(ms(t) for t in s.lag_tenths))
    print(f"  stop latency p50 {ms(percentile(s.stop_lags, 50))} ms, p99 {ms(stop99)} ms ({s.stopped:,} trials stopped; "
          f"{s.late_stops:,} stop decisions found the trial ended, {s.at_last:,} of them on its last report)")
    busy = s.cpu.get("evaluator", 0.0) / s.seconds
    print(f"  evaluator: {s.decision_rate:.0f} decisions/s while the sweep ran; per evaluator CPU second "
          f"{s.decisions / eval_cpu:.0f} decisions, {s.reports / eval_cpu:.0f} reports (busy {busy:.0%} of a core); "
          f"it waited {s.waited[0]:.2f} s for a CPU, {ms(s.waited[1])} ms in its worst second (at {s.waited[2]:+.1f} s; "
          f"the longest lag at {s.worst_lag_at:+.1f} s)")
    print("  CPU ms per trial: " + ", ".join(f"{g} {s.cpu.get(g, 0.0) / s.trials * 1000:.1f}" for g in GROUPS))
    if s is not base:
        pairs = ((s.rate, base.rate), (lag50, percentile(base.lags, 50)), (lag99, percentile(base.lags, 99)),
                 (stop99, percentile(base.stop_lags, 99)), (s.decision_rate, base.decision_rate))
        ratios = [a / b if b else math.nan for a, b in pairs]
        names = ("trials/s", "lag p50", "lag p99", "stop p99", "decisions/s")
        print(f"  x{base.trials}: " + ", ".join(f"{n} {r:.2f}" for n, r in zip(names, ratios, strict=True)))


def verdicts(s: Sample) -> None:
    """Each end-to-end target, PASS or FAIL, judged on sweep `s` (the target is stated at 10,000 trials)."""
    note = "" if s.trials == TARGET_AT else f" (judged at {s.trials:,}; the target is at {TARGET_AT:,})"
    checks = (
        (f"last-tenth throughput >= {TARGETS['tenths']}x first-tenth", s.rates[-1] / s.rates[0], TARGETS["tenths"], True),
        (f"decision lag p99 < {ms(TARGETS['lag_p99'])} ms", percentile(s.lags, 99), TARGETS["lag_p99"], False),
        (f"stop latency p99 < {ms(TARGETS['stop_p99'])} ms", percentile(s.stop_lags, 99), TARGETS["stop_p99"], False),
    )
    print(f"\ntargets at {TARGET_AT:,} trials, {IN_FLIGHT} in flight{note}:")
    for text, value, target, at_least in checks:
        ok = value >= target if at_least else value < target
        shown = f"{value:.2f}x" if at_least else f"{ms(value)} ms"
        verdict = "n/a (no decision with `reported`, or no trial stopped)" if math.isnan(value) else "PASS" if ok else "FAIL"
        print(f"  {text:<46} {shown:>9}  {verdict}")
    print("  (throughput with a policy on >= 0.6x bare Celery: benchmarks/throughput.py; dashboard, trials() and "
          "memory: scale.py --reads)")


def report(
    sizes: Sequence[int], policy: str, gap: float, procs: int, profile: Path | None = None, worker_nice: int = 0
) -> None:
    """Run each sweep size on one cluster (after a warm-up sweep) and print its figures and the targets."""
    print(f"end to end: {policy} policy, {IN_FLIGHT} trials in flight, {procs} worker processes, 10 reports per trial "
          f"{gap * 1000:.0f} ms apart; scheduler, evaluator, worker and a private redis-server as separate processes"
          + (f"; the worker at nice +{worker_nice}" if worker_nice else ""))
    print("decision lag = decision time - its report's stream time (the evaluator keeps every decision: "
          "SWEEPQ_KEEP_CONTINUE_DECISIONS=true); stop latency = the stopped trial's `ended` - its stop report's time")
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
    with cluster(procs, profile, worker_nice) as c:
        client = SweepClient(c.url)
        measure(c, client, IN_FLIGHT, policy, gap)  # warm-up: imports, worker processes, connections
        samples: list[Sample] = []
        for n in sizes:
            samples.append(measure(c, client, n, policy, gap))
            print_sample(samples[-1], samples[0])
            sys.stdout.flush()
    verdicts(next((s for s in samples if s.trials == TARGET_AT), samples[-1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max", type=int, default=TARGET_AT, help="the largest sweep (100000 adds the biggest)")
    parser.add_argument("--policy", choices=sorted(POLICIES), default="median")
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between a trial's reports")
    parser.add_argument("--procs", type=int, default=IN_FLIGHT, help="worker processes")
    parser.add_argument("--profile", type=Path, default=None, help="write scheduler.prof and evaluator.prof here")
    parser.add_argument("--worker-nice", type=int, default=0,
                        help="run the worker this much nicer, as if its trials ran on other machines than the evaluator")
    args = parser.parse_args(argv)
    if args.max < SIZES[0]:
        parser.error(f"--max {args.max} is below the smallest sweep ({SIZES[0]})")
    report([n for n in SIZES if n <= args.max], args.policy, args.gap, args.procs, args.profile, args.worker_nice)


if __name__ == "__main__":
    main()
