"""PBT versus random search versus ASHA on a real model at the same total epochs: an MLP on scikit-learn's digits
(examples/pbt_digits.py, plain SGD whose learning rate should change over training), over several seeds.

Each method gets population x epochs epochs in all and returns the best final validation accuracy among its
trials (a stopped trial's last value counts). The rules are the ones a sweep applies, run in-process without
Redis (training dominates): PBT is orchestrator.population's Pbt (configs/digits-pbt.yaml's settings: exploit the
worst quarter every perturbation_interval epochs, members stepped in lockstep); random search trains `population`
sampled trials to the end; ASHA is orchestrator.policies' Asha (min_resource 1, reduction factor 3) deciding after
each epoch, with new trials sampled until the epoch budget is spent.

    .venv/bin/python -m benchmarks.pbt [--seeds 5] [--population 8] [--epochs 24] [--interval 4]
"""

from __future__ import annotations

import argparse
import math
import pickle
import random
import statistics
import time
from typing import Any

from examples.pbt_digits import fit_epoch, new_model, set_rates
from orchestrator.loading import load_spec
from orchestrator.metrics_table import MetricTable
from orchestrator.policies import Asha, Schedule
from orchestrator.population import Pbt

SPACE = {"learning_rate": {"loguniform": [-6.9, -0.7]}, "momentum": {"uniform": [0.0, 0.95]}}


class Member:
    """One trial's model and parameters, trained an epoch at a time."""

    def __init__(self, params: dict[str, Any], seed: int) -> None:
        self.params = params
        self.model = new_model(params["learning_rate"], params["momentum"], 32, 64, seed)
        self.curve: list[float] = []

    def epoch(self) -> float:
        set_rates(self.model, self.params["learning_rate"], self.params["momentum"])
        self.curve.append(fit_epoch(self.model))
        return self.curve[-1]


def _space(seed: int) -> Any:
    return load_spec({"name": "pbt-benchmark", "trial": {"function": "examples.pbt_digits:train"},
                      "parameters": SPACE, "sampling": {"method": "random", "seed": seed},
                      "metric": {"name": "accuracy", "goal": "maximize"}, "limits": {"max_total_runs": 1}}).space


def pbt(seed: int, population: int, epochs: int, interval: int) -> float:
    space, rng = _space(seed), random.Random(seed)
    rule = Pbt("maximize", interval, 0.25, 0.25, seed)
    members = [Member(space.sample(rng), seed * 1000 + i) for i in range(population)]
    for e in range(1, epochs + 1):
        latest = {i: m.epoch() for i, m in enumerate(members)}
        for i in range(population):
            exploit = rule.decide(i, e, latest)
            if exploit is None or e == epochs:
                continue
            donor = members[exploit.donor]
            copy = Member.__new__(Member)
            copy.model, copy.curve = pickle.loads(pickle.dumps(donor.model)), list(donor.curve)
            copy.params = rule.explore(donor.params, space.expressions, exploit)
            members[i] = copy
    return max(m.curve[-1] for m in members)


def random_search(seed: int, population: int, epochs: int) -> float:
    space, rng = _space(seed), random.Random(seed)
    best = -math.inf
    for i in range(population):
        m = Member(space.sample(rng), seed * 1000 + i)
        for _ in range(epochs):
            m.epoch()
        best = max(best, m.curve[-1])
    return best


def asha(seed: int, population: int, epochs: int) -> float:
    space, rng = _space(seed), random.Random(seed)
    policy, table = Asha("maximize", 1, 3, 0, Schedule()), MetricTable("accuracy")
    budget, best, n = population * epochs, -math.inf, 0
    while budget > 0:
        m = Member(space.sample(rng), seed * 1000 + n)
        for e in range(1, min(epochs, budget) + 1):
            table.add(n, 1, {"accuracy": m.epoch()})
            budget -= 1
            if e < epochs and policy.applies(e) and policy.decide(table.view(), n, e).stop:
                table.stop(n, e)
                break
        table.finish(n)
        best, n = max(best, m.curve[-1]), n + 1
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--interval", type=int, default=4)
    a = parser.parse_args()
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    results: dict[str, list[float]] = {"pbt": [], "random": [], "asha": []}
    start = time.perf_counter()
    for seed in range(a.seeds):
        results["pbt"].append(pbt(seed, a.population, a.epochs, a.interval))
        results["random"].append(random_search(seed, a.population, a.epochs))
        results["asha"].append(asha(seed, a.population, a.epochs))
        print(f"seed {seed}: " + "  ".join(f"{k} {v[-1]:.4f}" for k, v in results.items()), flush=True)
    print(f"\n{a.population} x {a.epochs} epochs per method, {a.seeds} seeds ({time.perf_counter() - start:.0f} s)")
    print(f"{'method':<8} {'median final val. accuracy':>27} {'min':>7} {'max':>7}")
    for k, v in results.items():
        print(f"{k:<8} {statistics.median(v):>27.4f} {min(v):>7.4f} {max(v):>7.4f}")


if __name__ == "__main__":
    main()
