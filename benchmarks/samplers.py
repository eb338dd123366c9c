"""Median simple regret of sweepq's samplers on standard test functions (not a timed test).

Functions (all minimized; regret = best value found - known optimum):
- branin: 2 continuous parameters, x in [-5, 10], y in [0, 15]; optimum 0.397887.
- hartmann6: 6 continuous parameters in [0, 1]; optimum -3.32237.
- rosenbrock5: 5 continuous parameters in [-2, 2]; optimum 0.
- mixed: Branin plus a categorical offset (choice of a/b/c adds 0/2/5); optimum 0.397887 (CMA-ES refuses it).

Each sampler is built from a spec by create_sampler and driven ask/observe one trial at a time, as the scheduler
does with one worker. Run: `python benchmarks/samplers.py --budgets 30 100 --seeds 10`. The last lines check that
`auto` is never worse than TPE's median regret.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch loads: the GP sampler on a shared CPU

from orchestrator.samplers import TrialRecord, auto_method, create_sampler
from orchestrator.spec import SweepSpec


def branin(p: dict[str, Any]) -> float:
    x, y = p["x"], p["y"]
    b, c, r, s, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return float((y - b * x**2 + c * x - r) ** 2 + s * (1 - t) * math.cos(x) + s)


_HA = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
_HP = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]
_HALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(p: dict[str, Any]) -> float:
    x = [p[f"x{i}"] for i in range(6)]
    return -sum(
        a * math.exp(-sum(_HA[i][j] * (x[j] - _HP[i][j]) ** 2 for j in range(6))) for i, a in enumerate(_HALPHA)
    )


def rosenbrock5(p: dict[str, Any]) -> float:
    x = [p[f"x{i}"] for i in range(5)]
    return float(sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(4)))


def mixed(p: dict[str, Any]) -> float:
    return branin(p) + {"a": 0.0, "b": 2.0, "c": 5.0}[p["c"]]


def _u(low: float, high: float) -> dict[str, Any]:
    return {"type": "uniform", "low": low, "high": high}


BRANIN_SPACE = {"x": _u(-5, 10), "y": _u(0, 15)}
FUNCTIONS: dict[str, tuple[Callable[[dict[str, Any]], float], dict[str, Any], float]] = {
    "branin": (branin, BRANIN_SPACE, 0.397887),
    "hartmann6": (hartmann6, {f"x{i}": _u(0, 1) for i in range(6)}, -3.32237),
    "rosenbrock5": (rosenbrock5, {f"x{i}": _u(-2, 2) for i in range(5)}, 0.0),
    "mixed": (mixed, {**BRANIN_SPACE, "c": {"type": "choice", "values": ["a", "b", "c"]}}, 0.397887),
}
SAMPLINGS: dict[str, dict[str, Any]] = {
    "random": {"method": "random"},
    "sobol": {"method": "sobol"},
    "tpe": {"method": "bayesian"},
    "gp": {"method": "gp"},
    "cmaes": {"method": "cmaes"},
    "auto": {"method": "auto"},
}


def make_spec(function: str, sampling: str, budget: int, seed: int) -> SweepSpec | None:
    """The sweep spec of one run, or None when the spec refuses this sampler for this space."""
    try:
        return SweepSpec.model_validate({
            "name": "bench", "trial": {"function": "bench:f"}, "parameters": FUNCTIONS[function][1],
            "sampling": {**SAMPLINGS[sampling], "seed": seed}, "metric": {"name": "y", "goal": "minimize"},
            "limits": {"max_total_runs": budget},
        })
    except ValueError:
        return None


def regret(function: str, sampling: str, budget: int, seed: int) -> float | None:
    """The simple regret after `budget` trials, or None when the spec refuses this sampler for this space."""
    f, _, optimum = FUNCTIONS[function]
    spec = make_spec(function, sampling, budget, seed)
    if spec is None:
        return None
    sampler = create_sampler(spec)
    best = math.inf
    for n in range(budget):
        params = sampler.ask(n)
        assert params is not None
        sampler.observe(TrialRecord(n, params, "running"))
        value = f(params)
        best = min(best, value)
        sampler.observe(TrialRecord(n, params, "completed", value))
    return best - optimum


def _picked(function: str, sampling: str, budget: int) -> str:
    """The column whose runs `auto` repeats exactly (it builds gp and cmaes with their defaults), else itself."""
    spec = make_spec(function, sampling, budget, 0)
    if sampling != "auto" or spec is None:
        return sampling
    method = auto_method(spec)
    return method if method in ("gp", "cmaes") else sampling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[30, 100])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--functions", nargs="+", default=list(FUNCTIONS), choices=list(FUNCTIONS))
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLINGS), choices=list(SAMPLINGS))
    parser.add_argument("--no-gp", action="store_true", help="as if PyTorch were missing: gp refused, auto falls back")
    args = parser.parse_args()
    if args.no_gp:
        import orchestrator.samplers.auto as auto

        auto.gp_available = lambda: False  # type: ignore[assignment]
    warnings.simplefilter("ignore")
    medians: dict[tuple[str, int, str], float | None] = {}
    print(f"median simple regret over {args.seeds} seeds (lower is better; n/a: refused for the space)")
    print("auto runs what it picks: where that is gp or cmaes with their defaults, that column's runs are reused")
    print(f"{'function':<12} {'budget':>6} " + " ".join(f"{s:>9}" for s in args.samplers) + "   seconds")
    for function in args.functions:
        for budget in args.budgets:
            start, cells = time.monotonic(), []
            done: dict[str, list[float | None]] = {}
            for sampling in args.samplers:
                picked = _picked(function, sampling, budget)
                runs = done.get(picked) or [regret(function, sampling, budget, seed) for seed in range(args.seeds)]
                done[sampling] = runs
                m = None if any(r is None for r in runs) else statistics.median(r for r in runs if r is not None)
                medians[(function, budget, sampling)] = m
                cells.append(f"{m:>9.4f}" if m is not None else f"{'n/a':>9}")
            print(f"{function:<12} {budget:>6} " + " ".join(cells) + f"   {time.monotonic() - start:7.1f}", flush=True)
    if "auto" in args.samplers and "tpe" in args.samplers:
        bad = [
            k for k in medians
            if k[2] == "auto" and (medians[k] or 0.0) > (medians[(k[0], k[1], "tpe")] or 0.0) + 1e-12
        ]
        print("check: auto's median regret <= TPE's on every function and budget:", "PASS" if not bad else f"FAIL {bad}")


if __name__ == "__main__":
    main()
