"""What a screen can show of a big sweep: which trials and points the charts draw (pure: no I/O).

The rule, the same in the dashboard and the offline report:
- Scatter and parallel-coordinate charts draw at most MAX_POINTS trials: the KEEP_BEST best ones exactly, then
  trials spread evenly over the ranking of the rest (so the shape of the whole sweep stays visible).
- The metric chart draws at most MAX_CURVES curves: the BEST_CURVES best whole, then curves spread evenly over the
  ranking; each drawn curve keeps at most MAX_POINTS // curves points (evenly spaced, first and last kept). The
  point where each stopped trial was stopped is always drawn, for every stopped trial, in a marker trace of its own.
- Scatters of more than WEBGL_ABOVE points use WebGL traces (scattergl); parcoords and 3-D scatters are WebGL anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

MAX_POINTS = 2_000
KEEP_BEST = 200
MAX_CURVES = 200
BEST_CURVES = 20
MIN_CURVE_POINTS = 10
WEBGL_ABOVE = 1_000

T = TypeVar("T")


def spread(items: Sequence[T], count: int) -> list[T]:
    """`count` items evenly spaced over `items` (first and last included), in their order; all if they fit."""
    if count >= len(items):
        return list(items)
    if count <= 0:
        return []
    if count == 1:
        return [items[0]]
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def pick_ranked(ranked: Sequence[T], limit: int, keep_best: int) -> list[T]:
    """From items ranked best first: the `keep_best` best, then the rest spread evenly, `limit` in all (rank order)."""
    if len(ranked) <= limit:
        return list(ranked)
    best = list(ranked[: min(keep_best, limit)])
    return best + spread(ranked[len(best):], limit - len(best))


def thin_indices(length: int, limit: int) -> list[int]:
    """Indices of at most `limit` points of a curve of `length`, evenly spaced, its first and last always kept."""
    return spread(range(length), max(limit, 2))


def curve_budget(curves: int) -> int:
    """Points each drawn curve may keep so that the metric chart stays near MAX_POINTS."""
    return max(MIN_CURVE_POINTS, MAX_POINTS // max(curves, 1))


def trace_type(points: int) -> str:
    """scattergl (WebGL) for scatters a browser would draw slowly as SVG, scatter below that."""
    return "scattergl" if points > WEBGL_ABOVE else "scatter"
