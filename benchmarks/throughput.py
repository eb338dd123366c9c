"""Trials per second through sweepq next to bare Celery tasks per second, on the same Redis, in the same run.

    .venv/bin/python -m benchmarks.throughput [--trials 1000] [--workers 2] [--redis URL]

sweepq: 1,000 no-op trials that each report 10 metrics, 2 worker processes, scheduler and ledger included; then
the same with an early-termination policy on (median from the third report, or --policy), its evaluator deciding
on every report. Celery: 1,000 no-op tasks on a bare prefork worker with 2 processes. Prints the rates and their
ratios to bare Celery (targets: >= 0.5 without a policy, i.e. sweepq's per-trial overhead at most doubles bare
Celery's; >= 0.6 with a policy on).
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


def bare_celery(url: str, tasks: int, workers: int) -> float:
    from benchmarks.noop import make_app

    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.noop", url, str(workers)], cwd=ROOT,
                            start_new_session=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    app = make_app(url)
    try:
        app.send_task("bench.noop", queue="bench-raw").get(timeout=60)  # worker is up and warm
        started = time.perf_counter()
        results = [app.send_task("bench.noop", queue="bench-raw") for _ in range(tasks)]
        for r in results:
            r.get(timeout=300)
        return tasks / (time.perf_counter() - started)
    finally:
        stop_group(proc)


def sweepq_rate(url: str, trials: int, workers: int, policy: str | None = None) -> float:
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
    with LocalCluster(["bench-sweepq"], workers, url):
        warm = client.submit({**spec, "limits": {"max_total_runs": 8, "max_concurrent_runs": 8}})
        warm.wait(timeout=120, progress=False)
        sweep = client.submit(spec)
        status = sweep.wait(timeout=900, progress=False, poll=0.05)
    ended = {"completed", "stopped"} if policy else {"completed"}
    assert set(status["counts"]) <= ended and sum(status["counts"].values()) == trials, status
    return float(trials / (status["ended"] - status["created"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--policy", choices=sorted(POLICIES), default="median", help="the policy of the policy-on row")
    parser.add_argument("--redis", default=None, help="an existing Redis (default: a private redis-server)")
    args = parser.parse_args()
    redis_proc = None
    url = args.redis
    if url is None:
        from orchestrator.local import find_redis_server

        port = free_port()
        redis_proc = subprocess.Popen([find_redis_server(), "--port", str(port), "--save", "", "--appendonly", "no",
                                       "--maxmemory-policy", "noeviction"],
                                      stdout=subprocess.DEVNULL, start_new_session=True)
        url = f"redis://127.0.0.1:{port}/0"
        wait_for_redis(url)
    try:
        raw = bare_celery(url, args.trials, args.workers)
        ours = sweepq_rate(url, args.trials, args.workers)
        on = sweepq_rate(url, args.trials, args.workers, args.policy)
    finally:
        if redis_proc is not None:
            stop_group(redis_proc)
    print(f"{'bare Celery':<12}: {raw:8.1f} no-op tasks/s  ({args.trials} tasks, {args.workers} worker processes)")
    print(f"{'sweepq':<12}: {ours:8.1f} trials/s        ({args.trials} no-op trials x 10 reports, {args.workers} workers)")
    print(f"{'sweepq+' + args.policy:<12}: {on:8.1f} trials/s        (the same, {args.policy} policy on)")
    for name, rate, target in (("sweepq", ours, TARGET), (f"sweepq+{args.policy}", on, POLICY_TARGET)):
        ratio = rate / raw
        print(f"ratio {name:<17}: {ratio:5.2f}x bare Celery (target >= {target}): {'PASS' if ratio >= target else 'FAIL'}")


if __name__ == "__main__":
    main()
