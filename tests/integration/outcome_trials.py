"""Trial functions for the outcome tests (failing sweeps, sweeps without a metric, metric.summary ranking)."""

from __future__ import annotations

from workers import report

# Two curves whose best report and final value disagree: "peak" peaks at 0.9 and ends at 0.1, "steady" stays 0.5.
CURVES = {"peak": [0.2, 0.9, 0.1], "steady": [0.5, 0.5, 0.5]}


def broken(x: float) -> float:
    """Always fails, with the parameter in its error so a test can tell whose error a reason quotes."""
    raise ValueError(f"bad x={x:.3f}")


def fails_unless_third(k: int) -> float:
    """Fails for k = 0, 1, 3, 4, ...; succeeds for k = 2, 5, 8: never three failures in a row in grid order."""
    if k % 3 != 2:
        raise RuntimeError(f"k={k} fails")
    report(score=float(k))
    return float(k)


def curve(kind: str) -> None:
    """Reports CURVES[kind] and returns nothing, so the final value is the last report."""
    for value in CURVES[kind]:
        report(score=value)


def no_metric(x: float) -> None:
    """A trial that reports something other than a metric (the sweep has none)."""
    report(loss=x)
