"""Trials per second through sweepq next to bare Celery tasks per second, on the same Redis, in the same run.

    .venv/bin/python -m benchmarks.throughput [--trials 1000] [--workers 2] [--policy median] [--repeat 3] [--redis URL]

sweepq: 1,000 no-op trials that each report 10 metrics, 2 worker processes, scheduler and ledger included; then
the same with an early-termination policy on (median from the third report, or --policy), its evaluator deciding
on every report. Celery: 1,000 no-op tasks on a bare prefork worker with 2 processes. Prints the rates and their
ratios to bare Celery (targets: >= 0.5 without a policy, i.e. sweepq's per-trial overhead at most doubles bare
Celery's; >= 0.6 with a policy on), each the fastest of --repeat interleaved rounds, with the CPU each process group
spent per task (on a CPU-bound machine the ratios follow the CPU per task).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from orchestrator.cli_processes import COMPACT_VALUE_BYTES
from orchestrator.client import SweepClient
from orchestrator.local import LocalCluster, free_port, stop_group, wait_for_redis
from orchestrator.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
POLICIES: dict[str, dict[str, Any]] = {
    "median": {"policy": "median", "delay_evaluation": 3},
    "asha": {"policy": "asha", "min_resource": 1, "reduction_factor": 3},
    "bandit": {"policy": "bandit", "slack_factor": 0.1, "delay_evaluation": 3},
}
TARGET, POLICY_TARGET = 0.5, 0.6
Row = tuple[float, dict[str, float]]  # a rate, and CPU seconds per task of each process group


def cpu_of(groups: dict[str, int | None]) -> dict[str, float]:
    """CPU seconds used so far by each named process group (none: 0)."""
    from benchmarks.scale_e2e import group_cpu

    return {name: group_cpu(pgid) if pgid else 0.0 for name, pgid in groups.items()}


def per_task(before: dict[str, float], after: dict[str, float], tasks: int) -> dict[str, float]:
    return {k: (after[k] - before[k]) / tasks for k in after}


def bare_celery(url: str, tasks: int, workers: int, redis_pid: int | None = None) -> Row:
    from benchmarks.noop import make_app

    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.noop", url, str(workers)], cwd=ROOT,
                            start_new_session=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    app = make_app(url)
    try:
        app.send_task("bench.noop", queue="bench-raw").get(timeout=60)  # worker is up and warm
        groups = {"worker": proc.pid, "redis": redis_pid}
        before, client_cpu, started = cpu_of(groups), time.process_time(), time.perf_counter()
        results = [app.send_task("bench.noop", queue="bench-raw") for _ in range(tasks)]
        for r in results:
            r.get(timeout=300)
        rate = tasks / (time.perf_counter() - started)
        cpu = per_task(before, cpu_of(groups), tasks) | {"client": (time.process_time() - client_cpu) / tasks}
        return rate, cpu
    finally:
        stop_group(proc)


def sweepq_rate(url: str, trials: int, workers: int, policy: str | None = None, redis_pid: int | None = None) -> Row:
    """Trials/s of one sweep of no-op trials (from its creation to its end), with an early-termination policy if
    given; the scheduler (with its evaluator) and the worker are started afresh for it, then warmed up."""
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    os.environ.update(SWEEPQ_KEY_PREFIX=prefix, PYTHONPATH=str(ROOT), SWEEPQ_SCHEDULER_POLL_SECONDS="0.05")
    client = SweepClient(settings=Settings(redis_url=url, key_prefix=prefix))
    spec = {
        "name": "throughput", "trial": {"function": "benchmarks.noop:trial"},
        "parameters": {"x": {"uniform": [0, 1]}}, "metric": {"name": "score", "goal": "maximize"},
        "limits": {"max_total_runs": trials, "max_concurrent_runs": 4 * workers}, "resources": {"queue": "bench-sweepq"},
    }
    if policy is not None:
        spec["early_termination"] = POLICIES[policy]
    with LocalCluster(["bench-sweepq"], workers, url) as cluster:
        warm = client.submit({**spec, "limits": {"max_total_runs": 8, "max_concurrent_runs": 8}})
        warm.wait(timeout=120, progress=False)
        scheduler, worker = (p.pid for p in cluster.procs)
        groups = {"worker": worker, "scheduler": scheduler, "redis": redis_pid}
        before = cpu_of(groups)
        sweep = client.submit(spec)
        status = sweep.wait(timeout=900, progress=False, poll=0.05)
        cpu = per_task(before, cpu_of(groups), trials)
    ended = {"completed", "stopped"} if policy else {"completed"}
    assert set(status["counts"]) <= ended and sum(status["counts"].values()) == trials, status
    return float(trials / (status["ended"] - status["created"])), cpu


def cpu_text(cpu: dict[str, float]) -> str:
    parts = ", ".join(f"{k} {v * 1000:.2f}" for k, v in cpu.items())
    return f"CPU ms per task: {parts} (total {sum(cpu.values()) * 1000:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--policy", choices=sorted(POLICIES), default="median", help="the policy of the policy-on row")
    parser.add_argument("--redis", default=None, help="an existing Redis (default: a private redis-server)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of the three runs; each row shows its fastest (the machine is shared)")
    args = parser.parse_args()
    redis_proc = None
    url = args.redis
    if url is None:
        from orchestrator.local import find_redis_server

        port = free_port()
        redis_proc = subprocess.Popen([find_redis_server(), "--port", str(port), "--save", "", "--appendonly", "no",
                                       "--maxmemory-policy", "noeviction",
                                       "--hash-max-listpack-value", str(COMPACT_VALUE_BYTES)],
                                      stdout=subprocess.DEVNULL, start_new_session=True)
        url = f"redis://127.0.0.1:{port}/0"
        wait_for_redis(url)
    try:
        pid = redis_proc.pid if redis_proc is not None else None
        runs: list[tuple[Row, Row, Row]] = []
        for _ in range(args.repeat):  # interleaved, so a burst of other work does not fall on one row only
            runs.append((bare_celery(url, args.trials, args.workers, pid),
                         sweepq_rate(url, args.trials, args.workers, redis_pid=pid),
                         sweepq_rate(url, args.trials, args.workers, args.policy, redis_pid=pid)))
    finally:
        if redis_proc is not None:
            stop_group(redis_proc)
    show(runs, args.trials, args.workers, args.policy)


def show(runs: list[tuple[Row, Row, Row]], trials: int, workers: int, policy: str) -> None:
    """The three rates (the fastest of each row's runs) with their CPU per task, and the two ratios to bare Celery
    against their targets."""
    (raw, raw_cpu), (ours, ours_cpu), (on, on_cpu) = (max(row, key=lambda r: r[0]) for row in zip(*runs, strict=True))
    print(f"the fastest of {len(runs)} interleaved rounds; every run's rate (bare, sweepq, sweepq+{policy}): "
          + "; ".join(", ".join(f"{r[0]:.0f}" for r in run) for run in runs))
    print(f"{'bare Celery':<13}: {raw:7.1f} no-op tasks/s ({trials} tasks, {workers} worker processes); {cpu_text(raw_cpu)}")
    print(f"{'sweepq':<13}: {ours:7.1f} trials/s ({trials} no-op trials x 10 reports, {workers} workers); "
          f"{cpu_text(ours_cpu)}")
    print(f"{'sweepq+' + policy:<13}: {on:7.1f} trials/s (the same, {policy} policy on); {cpu_text(on_cpu)}")
    for name, rate, target in (("sweepq", ours, TARGET), (f"sweepq+{policy}", on, POLICY_TARGET)):
        ratio = rate / raw
        print(f"ratio {name:<17}: {ratio:5.2f}x bare Celery (target >= {target}): {'PASS' if ratio >= target else 'FAIL'}")
    print("(scheduler = the scheduler process with its evaluator thread; client = the process that sends bare tasks and "
          "waits for their results)")


if __name__ == "__main__":
    main()
