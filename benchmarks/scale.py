"""Scale: the per-report cost of early termination as a sweep grows, without Redis (the evaluator's in-process
work: take a report into the metrics table, decide when the policy applies, cut a stopped curve, mark ended runs).

Sweeps of 100, 1,000, 10,000 and 100,000 trials of 10 reports each, 64 trials in flight whose reports interleave
at random, for every policy with an incremental version (the optuna wrapper has none: O(trials) per decision).
Prints the cost per report (thread CPU time; the mean over blocks of 1,000 reports without the slowest and fastest
tenth, as the machine is shared), its ratio to the 100-trial sweep (target: <= 2x at 100,000 trials), and, for
comparison, what a decision cost when it rebuilt the table and
ran the pure policy on it (sampled on the last due decisions of sweeps up to --rebuild-max trials).

    .venv/bin/python -m benchmarks.scale [--max 100000] [--rebuild-max 10000] [--policies median asha] [--seed 0]

With --reads, the read paths instead (benchmarks/scale_reads.py: dashboard, trials(), Redis memory per trial); with
--e2e, real scheduler, evaluator and worker processes on a private redis-server (benchmarks/scale_e2e.py: trials/s
per tenth, decision lag, stop latency, evaluator decisions/s), with the first of --policies (default median).
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from orchestrator.metrics_table import MetricTable
from orchestrator.policies import Asha, Bandit, Hyperband, Median, Policy, Schedule, Truncation, bands
from orchestrator.policies.incremental import decide

SIZES = (100, 1_000, 10_000, 100_000)
REPORTS = 10
IN_FLIGHT = 64
TARGET = 2.0
REBUILD_SAMPLE = 50
CLOCK = time.thread_time  # CPU time of this thread: the machine is shared, wall time would count the others
BLOCK = 1_000
MIN_REPORTS = 100_000  # smaller sweeps are repeated (other seeds) until this many reports were timed
HYPERDRIVE = Schedule(every=1, delay=3)  # the HyperDrive policies from the third report on, so curves get going

POLICIES: dict[str, Callable[[], Policy]] = {
    "bandit": lambda: Bandit("maximize", slack_factor=0.1, schedule=HYPERDRIVE),
    "median": lambda: Median("maximize", HYPERDRIVE),
    "truncation": lambda: Truncation("maximize", 20, exclude_finished_jobs=True, schedule=HYPERDRIVE),
    "asha": lambda: Asha("maximize", 1, 3, 0),
    "hyperband": lambda: Hyperband("maximize", tuple(bands(1, None, None, 3)), 3),
}


@dataclass
class Result:
    reports: int = 0
    decisions: int = 0
    stops: int = 0
    seconds: float = 0.0  # in the table and the incremental decisions
    costs: list[float] = field(default_factory=list)  # seconds of each report, in order
    rebuild_seconds: float = 0.0  # the pure policy on a rebuilt table, for the sampled decisions
    rebuilt: int = 0

    def merge(self, other: Result) -> None:
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)

    def per_report(self) -> float:
        """Seconds per report: the mean over blocks of reports, leaving out the slowest and fastest tenth of the
        blocks (the machine is shared: a burst of other work must not decide a ratio)."""
        blocks = sorted(math.fsum(self.costs[i : i + BLOCK]) for i in range(0, len(self.costs) - BLOCK + 1, BLOCK))
        cut = len(blocks) // 10
        kept = blocks[cut : len(blocks) - cut] or [self.seconds * BLOCK / max(self.reports, 1)]
        return sum(kept) / len(kept) / BLOCK


def curve(rng: random.Random) -> list[float]:
    """A learning curve: a trial's quality approached with noise; now and then a diverged (NaN) report."""
    quality = rng.random()
    return [
        math.nan if rng.random() < 0.005 else quality * (1 - math.exp(-(t + 1) / 3)) + rng.gauss(0, 0.02)
        for t in range(REPORTS)
    ]


def report(policy: Policy, table: MetricTable, number: int, value: float, result: Result) -> tuple[int | None, bool]:
    """What the evaluator does with one report (timed): into the table, the decision when due, a stop, an end.
    Returns the interval and whether the trial ended."""
    entry = {"score": value}
    t0 = CLOCK()
    interval = table.add(number, 1, entry)
    stopped = False
    if interval is not None and policy.applies(interval):
        result.decisions += 1
        if decide(policy, table.index, number, interval).stop:
            table.stop(number, interval)
            stopped = True
    ended = stopped or interval == REPORTS
    if ended:
        table.finish(number)
    spent = CLOCK() - t0
    result.seconds += spent
    result.reports += 1
    result.costs.append(spent)
    result.stops += stopped
    return interval, ended


def sweep(policy: Policy, trials: int, seed: int, rebuild: bool) -> Result:
    """Feed one sweep's reports to the table as the evaluator does; time the table and decision work only (and,
    if `rebuild`, the pure policy on a rebuilt table for the first due decisions once every trial has started)."""
    rng = random.Random(seed)
    table, result = MetricTable("score", "maximize"), Result()
    flight: list[tuple[int, list[float]]] = []
    started = 0
    while started < trials or flight:
        while len(flight) < IN_FLIGHT and started < trials:
            flight.append((started, curve(rng)))
            started += 1
        slot = rng.randrange(len(flight))
        number, values = flight[slot]
        interval, ended = report(policy, table, number, values[len(table.curves.get(number, ()))], result)
        due = interval is not None and policy.applies(interval)
        if rebuild and started == trials and due and result.rebuilt < REBUILD_SAMPLE and interval is not None:
            t1 = CLOCK()
            policy.decide(table.view(), number, interval)
            result.rebuild_seconds += CLOCK() - t1
            result.rebuilt += 1
        if ended:
            flight[slot] = flight[-1]
            flight.pop()
    return result


def clock_cost() -> float:
    """Seconds one pair of clock reads costs, subtracted from each timed report."""
    runs = 200_000
    t0 = CLOCK()
    for _ in range(runs):
        CLOCK()
        CLOCK()
    return (CLOCK() - t0) / runs


def measure(name: str, trials: int, seed: int, rebuild: bool) -> Result:
    """One sweep of `trials`, repeated with further seeds while fewer than MIN_REPORTS reports were timed."""
    total, k = Result(), 0
    while k == 0 or total.reports < MIN_REPORTS:
        r = sweep(POLICIES[name](), trials, seed + k, rebuild and k == 0)
        total.merge(r)
        k += 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max", type=int, default=SIZES[-1], help="largest sweep to run (trials)")
    parser.add_argument("--rebuild-max", type=int, default=10_000, help="largest sweep to sample the rebuild cost in")
    parser.add_argument("--policies", nargs="+", choices=sorted(POLICIES), default=None, help="default: all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reads", action="store_true",
                        help="the read paths instead (dashboard, trials(), memory per trial): benchmarks/scale_reads.py")
    parser.add_argument("--e2e", action="store_true",
                        help="end to end with real processes instead (throughput, lag, stops): benchmarks/scale_e2e.py")
    args = parser.parse_args()
    if args.e2e:
        from benchmarks.scale_e2e import main as e2e

        e2e(["--max", str(args.max), "--policy", (args.policies or ["median"])[0]])
        return
    if args.reads:
        from benchmarks.scale_reads import SIZES as READ_SIZES
        from benchmarks.scale_reads import report

        report(tuple(n for n in READ_SIZES if n <= args.max))
        return
    sizes = [n for n in SIZES if n <= args.max]
    print(f"{REPORTS} reports per trial, {IN_FLIGHT} in flight; cost per report = table + decision (no Redis)")
    print(f"{'policy':<11} {'trials':>8} {'reports':>9} {'decisions':>9} {'stops':>7} "
          f"{'us/report':>9} {'x100':>6} {'rebuild us/decision':>20}")
    verdicts, overhead = [], clock_cost()
    for name in args.policies or list(POLICIES):
        base = None
        for n in sizes:
            r = measure(name, n, args.seed, rebuild=n <= args.rebuild_max)
            per = (r.per_report() - overhead) * 1e6
            base = base or per
            rebuild = f"{r.rebuild_seconds / r.rebuilt * 1e6:20.1f}" if r.rebuilt else f"{'-':>20}"
            counts = f"{r.reports:>9,} {r.decisions:>9,} {r.stops:>7,}"
            print(f"{name:<11} {n:>8,} {counts} {per:>9.2f} {per / base:>6.2f} {rebuild}")
        verdicts.append((name, per / (base or per), sizes[-1]))
    print(f"target: per-report cost at {sizes[-1]:,} trials <= {TARGET:g}x the 100-trial cost")
    for name, ratio, n in verdicts:
        print(f"  {name:<11} x{ratio:.2f} at {n:,} trials: {'PASS' if ratio <= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
