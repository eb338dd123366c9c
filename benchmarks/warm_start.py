"""Warm start: the best value in the first 10 trials of a bayesian sweep, cold versus warm-started from an
earlier sweep of 40 trials on the same objective, averaged over seeds. Uses the sweep's own sampler exactly as
the scheduler drives it (ask, then observe each finished trial), without Redis.

    .venv/bin/python -m benchmarks.warm_start [--seeds 10] [--history 40] [--trials 10]
"""

from __future__ import annotations

import argparse
import random
import statistics

from orchestrator.loading import load_spec
from orchestrator.samplers import TrialRecord, create_sampler

SPEC = {
    "name": "warm-start-benchmark",
    "trial": {"function": "benchmarks.noop:trial"},
    "parameters": {"x": {"uniform": [-2, 2]}, "y": {"uniform": [-2, 2]}, "z": {"uniform": [-2, 2]}},
    "sampling": {"method": "bayesian"},
    "metric": {"name": "score", "goal": "maximize"},
    "limits": {"max_total_runs": 100},
}


def objective(p: dict[str, float]) -> float:
    """A smooth bump with its top (0) at (0.7, -1.1, 0.3)."""
    return -((p["x"] - 0.7) ** 2 + (p["y"] + 1.1) ** 2 + (p["z"] - 0.3) ** 2)


def run(seed: int, history: int, trials: int) -> float:
    spec = load_spec({**SPEC, "sampling": {"method": "bayesian", "seed": seed}})
    earlier = []
    if history:
        rng = random.Random(10_000 + seed)  # the earlier sweep: random search on the same objective
        for n in range(history):
            params = spec.space.sample(rng)
            earlier.append(TrialRecord(n, params, "completed", objective(params), source="earlier-sweep"))
    sampler = create_sampler(spec, earlier)
    best = float("-inf")
    for n in range(trials):
        asked = sampler.ask(n)
        assert asked is not None
        value = objective(asked)
        sampler.observe(TrialRecord(n, asked, "completed", value))
        best = max(best, value)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--history", type=int, default=40)
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    cold = [run(seed, 0, args.trials) for seed in range(args.seeds)]
    warm = [run(seed, args.history, args.trials) for seed in range(args.seeds)]
    print(f"best of the first {args.trials} trials (maximize; 0 is the optimum), mean over {args.seeds} seeds:")
    print(f"cold start : {statistics.fmean(cold):8.4f}")
    print(f"warm start : {statistics.fmean(warm):8.4f}  (from {args.history} trials of an earlier sweep)")
    print(f"warm better in {sum(w > c for w, c in zip(warm, cold, strict=True))} of {args.seeds} seeds")


if __name__ == "__main__":
    main()
