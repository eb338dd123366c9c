"""Fault injection, N runs per fault, on real Redis and real `sweepq` processes: what each fault costs a sweep.

Prints one row per fault: runs, trials lost, results lost, duplicates, stuck trials, re-runs (attempts beyond the
first: the remedy for a lost worker, a cost for anything else), dead processes and the time from the end of the
fault to the next completed trial (median over the runs). The scenarios are the fault tests' own
(tests/faults/scenarios.py); the network partition needs root and `ip netns`, and is reported as skipped otherwise.

    .venv/bin/python -m benchmarks.faults [--runs 3] [--only redis,stale] [--redis-url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tests.faults.private_redis import PrivateRedis
from tests.faults.scenarios import (
    Audit,
    Unavailable,
    evaluator_kill,
    network_namespace,
    partition,
    pool_child_kill,
    redis_outage,
    scheduler_kill,
    stale_attempt,
    worker_kill,
)
from tests.integration.conftest import Cluster

Scenario = Callable[[str, Path], Audit]


def on_shared(run: Callable[[Cluster], Audit]) -> Scenario:
    """A scenario on the shared Redis (its own key prefix and queue)."""

    def go(redis_url: str, tmp: Path) -> Audit:
        cluster = Cluster(redis_url, tmp)
        try:
            return run(cluster)
        finally:
            cluster.close()

    return go


def redis_restart(down_s: float, lease_s: float) -> Scenario:
    """Redis SIGKILLed mid-sweep and started again `down_s` later (a private server with AOF on)."""

    def go(_: str, tmp: Path) -> Audit:
        server = PrivateRedis(tmp / "redis", appendonly=True)
        server.start()
        cluster = Cluster(server.url, tmp)
        try:
            return redis_outage(cluster, server, down_s=down_s, lease_s=lease_s)
        finally:
            cluster.close()
            server.kill()

    return go


def netns_partition(_: str, tmp: Path) -> Audit:
    with network_namespace() as net:
        server = PrivateRedis(tmp / "redis", bind=net.host_ip)
        server.start()
        cluster = Cluster(server.url, tmp)
        try:
            return partition(cluster, net)[0]
        finally:
            cluster.close()
            server.kill()


SCENARIOS: dict[str, Scenario] = {
    "worker-python": on_shared(lambda c: worker_kill(c, command=False)),
    "worker-command": on_shared(lambda c: worker_kill(c, command=True)),
    "pool-child": on_shared(pool_child_kill),
    "scheduler": on_shared(scheduler_kill),
    "evaluator": on_shared(evaluator_kill),
    "redis": redis_restart(down_s=8, lease_s=20),
    "redis-30s": redis_restart(down_s=30, lease_s=60),  # the target, with the default lease
    "stale": on_shared(lambda c: stale_attempt(c)[0]),
    "partition": netns_partition,
}


def run_fault(name: str, runs: int, redis_url: str) -> tuple[list[Audit], str | None]:
    """Run one fault `runs` times; a run that raised counts as a failure with its reason."""
    audits: list[Audit] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix=f"sweepq-fault-{name}-") as tmp:
            try:
                audits.append(SCENARIOS[name](redis_url, Path(tmp)))
            except Unavailable as exc:
                return audits, f"skipped: {exc}"
            except Exception as exc:  # a scenario that did not finish is a result too: show why
                traceback.print_exc()
                return audits, f"error: {exc}"
    return audits, None


def table(results: dict[str, tuple[list[Audit], str | None]]) -> Table:
    t = Table(title="What survives what (each fault injected N times into a running sweep)")
    for col in ("fault", "runs", "trials lost", "results lost", "duplicates", "stuck", "re-runs", "dead procs",
                "recover s (median)"):
        t.add_column(col, justify="left" if col == "fault" else "right")
    for name, (audits, problem) in results.items():
        label = audits[0].fault if audits else name
        if problem and not audits:
            t.add_row(label, "0", *["-"] * 6, problem)
            continue
        recover = [a.recover_s for a in audits if a.recover_s is not None]
        t.add_row(
            label, str(len(audits)) + (f" ({problem})" if problem else ""),
            *(str(sum(getattr(a, f) for a in audits))
              for f in ("trials_lost", "results_lost", "duplicates", "stuck", "reruns", "dead_processes")),
            f"{statistics.median(recover):.1f}" if recover else "-",
        )
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="the shared server (most faults)")
    args = parser.parse_args()
    console = Console(width=160)
    results = {}
    for name in args.only.split(","):
        console.log(f"fault {name}: {args.runs} run(s)")
        results[name] = run_fault(name, args.runs, args.redis_url)
    console.print(table(results))


if __name__ == "__main__":
    main()
