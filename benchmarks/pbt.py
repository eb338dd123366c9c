"""PBT versus random search versus ASHA on a real model at the same total epochs, over several seeds: an MLP
(examples/pbt_digits.py: 64 hidden units, SGD with a sampled learning rate and momentum, batch 32) on its
"noisy" task, a 4-class make_classification problem (20,000 points) with 10% flipped labels, where SGD's noise at
a fixed learning rate costs accuracy and a learning rate that decays over training wins it back (on digits every
method saturates near 97%: `--data digits`).

Each method gets population x epochs epochs in all; its result is the trial with the best final validation
accuracy (a stopped trial's last value counts), and that trial's accuracy on the held-out test split, which no
method saw, is printed beside it. The rules are the ones a sweep applies, run in-process without Redis (training
dominates): PBT is orchestrator.population's Pbt (configs/digits-pbt.yaml's settings: every 3 epochs the worst
quarter copies one of the best quarter and explores, members stepped in lockstep); random search trains
`population` sampled trials to the end; ASHA is orchestrator.policies' Asha (min_resource 1, reduction factor 3)
deciding after each epoch, with new trials sampled until the epoch budget is spent. All three sample SPACE.

    .venv/bin/python -m benchmarks.pbt [--seeds 5] [--population 8] [--epochs 24] [--interval 3] [--data noisy]
"""

from __future__ import annotations

import argparse
import pickle
import random
import statistics
import time
from dataclasses import replace
from typing import Any

from examples.pbt_digits import fit_epoch, new_model, score, set_rates
from orchestrator.loading import load_spec
from orchestrator.metrics_table import MetricTable
from orchestrator.policies import Asha, Schedule
from orchestrator.population import Pbt

SPACE = {"learning_rate": {"loguniform": [-6.9, -0.7]}, "momentum": {"uniform": [0.0, 0.95]}}
HIDDEN, BATCH = 64, 32
INTERVAL, QUANTILE, RESAMPLE = 3, 0.25, 0.25


class Member:
    """One trial's model and parameters, trained an epoch at a time."""

    def __init__(self, params: dict[str, Any], seed: int, data: str) -> None:
        self.params, self.data = params, data
        self.model = new_model(params["learning_rate"], params["momentum"], HIDDEN, BATCH, seed)
        self.curve: list[float] = []

    def epoch(self) -> float:
        set_rates(self.model, self.params["learning_rate"], self.params["momentum"])
        self.curve.append(fit_epoch(self.model, self.data))
        return self.curve[-1]

    def result(self) -> tuple[float, float]:
        """The final validation accuracy and the held-out test accuracy."""
        return self.curve[-1], score(self.model, self.data, "test")


def best(members: list[Member]) -> tuple[float, float]:
    """The (validation, test) accuracy of the member with the best final validation accuracy."""
    return max((m.result() for m in members), key=lambda r: r[0])


def _space(seed: int) -> Any:
    return load_spec({"name": "pbt-benchmark", "trial": {"function": "examples.pbt_digits:train"},
                      "parameters": SPACE, "sampling": {"method": "random", "seed": seed},
                      "metric": {"name": "accuracy", "goal": "maximize"}, "limits": {"max_total_runs": 1}}).space


def pbt(seed: int, population: int, epochs: int, data: str, rule: Pbt) -> tuple[float, float]:
    space, rng = _space(seed), random.Random(seed)
    rule = replace(rule, seed=seed)
    members = [Member(space.sample(rng), seed * 1000 + i, data) for i in range(population)]
    for e in range(1, epochs + 1):
        latest = {i: m.epoch() for i, m in enumerate(members)}
        for i in range(population):
            exploit = rule.decide(i, e, latest)
            if exploit is None or e == epochs:
                continue
            donor = members[exploit.donor]
            copy = Member.__new__(Member)
            copy.model, copy.curve, copy.data = pickle.loads(pickle.dumps(donor.model)), list(donor.curve), data
            copy.params = rule.explore(donor.params, space.expressions, exploit)
            members[i] = copy
    return best(members)


def random_search(seed: int, population: int, epochs: int, data: str) -> tuple[float, float]:
    space, rng = _space(seed), random.Random(seed)
    members = [Member(space.sample(rng), seed * 1000 + i, data) for i in range(population)]
    for m in members:
        for _ in range(epochs):
            m.epoch()
    return best(members)


def asha(seed: int, population: int, epochs: int, data: str) -> tuple[float, float]:
    space, rng = _space(seed), random.Random(seed)
    policy, table = Asha("maximize", 1, 3, 0, Schedule()), MetricTable("accuracy")
    budget, members = population * epochs, list[Member]()
    while budget > 0:
        m = Member(space.sample(rng), seed * 1000 + len(members), data)
        n = len(members)
        for e in range(1, min(epochs, budget) + 1):
            table.add(n, 1, {"accuracy": m.epoch()})
            budget -= 1
            if e < epochs and policy.applies(e) and policy.decide(table.view(), n, e).stop:
                table.stop(n, e)
                break
        table.finish(n)
        members.append(m)
    return best(members)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--interval", type=int, default=INTERVAL)
    parser.add_argument("--quantile", type=float, default=QUANTILE)
    parser.add_argument("--resample", type=float, default=RESAMPLE)
    parser.add_argument("--data", default="noisy", choices=("noisy", "digits"))
    parser.add_argument("--methods", default="pbt,random,asha")
    a = parser.parse_args()
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    rule = Pbt("maximize", a.interval, a.quantile, a.resample)
    runs = {"pbt": lambda s: pbt(s, a.population, a.epochs, a.data, rule),
            "random": lambda s: random_search(s, a.population, a.epochs, a.data),
            "asha": lambda s: asha(s, a.population, a.epochs, a.data)}
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in a.methods.split(",")}
    start = time.perf_counter()
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        for k, v in results.items():
            v.append(runs[k](seed))
        line = "  ".join(f"{k} {v[-1][0]:.4f} (test {v[-1][1]:.4f})" for k, v in results.items())
        print(f"seed {seed}: {line}", flush=True)
    took = time.perf_counter() - start
    print(f"\n{a.data}: {a.population} x {a.epochs} epochs per method, {a.seeds} seeds ({took:.0f} s)")
    print(f"{'method':<8} {'median final val. accuracy':>27} {'min':>7} {'max':>7} {'median test':>12}")
    for k, v in results.items():
        val, test = [r[0] for r in v], [r[1] for r in v]
        print(f"{k:<8} {statistics.median(val):>27.4f} {min(val):>7.4f} {max(val):>7.4f} {statistics.median(test):>12.4f}")


if __name__ == "__main__":
    main()
