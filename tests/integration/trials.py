"""Trial functions the integration tests sweep; imported by real worker processes (PYTHONPATH = repo root)."""

from __future__ import annotations

import os
import time

from workers import report


def sleepy(x: float, pause: float = 0.3, steps: int = 3) -> float:
    """Reports x * step for a few steps, sleeping between them; returns x."""
    for step in range(1, steps + 1):
        time.sleep(pause / steps)
        report(score=x * step)
    return x


def quick(x: float) -> float:
    return x


def flaky(x: float) -> float:
    """Fails for x < 0.3, so a sweep sees some failed trials."""
    if x < 0.3:
        raise ValueError(f"x={x} is too small for this model")
    report(score=x)
    return x


def gpu(x: float) -> dict[str, float]:
    """Holds its slot for a moment and returns which GPU it was given."""
    time.sleep(0.5)
    report(score=x)
    return {"score": x, "gpu": float(os.environ.get("CUDA_VISIBLE_DEVICES", "-1"))}


def endless(x: float) -> float:
    """Reports every 0.1 s forever: it ends only when stopped (cooperatively, through report())."""
    step = 0
    while True:
        step += 1
        report(score=x, step=step)
        time.sleep(0.1)


def silent(x: float) -> float:
    """Never reports and sleeps long: only a forced revoke ends it early."""
    time.sleep(120)
    return x


def slow(x: float) -> float:
    """Two seconds of work with a report every 0.2 s."""
    for step in range(1, 11):
        time.sleep(0.2)
        report(score=x, step=step)
    return x


def curve_up(x: float, steps: int = 4, pause: float = 0.15) -> float:
    """A deterministic learning curve to maximize: x * k at step k."""
    for k in range(1, steps + 1):
        report(score=x * k)
        time.sleep(pause)
    return x * steps


def curve_down(x: float, steps: int = 4, pause: float = 0.15) -> float:
    """A deterministic loss curve to minimize: x / k at step k."""
    for k in range(1, steps + 1):
        report(score=x / k)
        time.sleep(pause)
    return x / steps


def never_reports(x: float) -> float:
    time.sleep(1.0)
    return x


def labelled_curve(x: float, kind: str, pause: float = 0.25) -> float:
    """curve_up with a categorical parameter that only labels the trial (the dashboard tests show it)."""
    return curve_up(x, pause=pause)


def two_objectives(x: float, y: float) -> dict[str, float]:
    """accuracy rises with x, latency_ms with x and y: a trade-off with a known Pareto front (y = 0)."""
    report(accuracy=x, latency_ms=10 * (x + y))
    return {"accuracy": x, "latency_ms": 10 * (x + y)}


def tally(x: float, pause: float = 0.8, steps: int = 4) -> float:
    """Notes each execution in its output directory (a trial run twice leaves two lines), then reports slowly."""
    with open(os.path.join(os.environ["SWEEPQ_OUTPUT_DIR"], "executions"), "a") as f:
        f.write(f"{os.getpid()}\n")
    for step in range(1, steps + 1):
        time.sleep(pause / steps)
        report(score=x * step)
    return x
