"""The best value over intervals 1..N when the best at each interval changes (a segment tree; pure)."""

from __future__ import annotations

import math

from orchestrator.policies.base import Goal, worst


class PrefixBest:
    """Point updates and prefix queries in O(log intervals); the tree doubles as intervals grow.

    Kept in "higher is better" form (values negated when minimizing, which is exact), so the tree takes maxima.
    """

    def __init__(self, goal: Goal) -> None:
        self.goal = goal
        self.size = 1
        self.tree = [-math.inf, -math.inf]

    def update(self, interval: int, best: float | None) -> None:
        """The best value at `interval` (1-based) is now `best` (None: no run has a value there)."""
        while interval > self.size:
            self._grow()
        i = self.size + interval - 1
        self.tree[i] = -math.inf if best is None else self._up(best)
        i //= 2
        while i:
            self.tree[i] = max(self.tree[2 * i], self.tree[2 * i + 1])
            i //= 2

    def best(self, interval: int) -> float:
        """The best value at intervals 1..interval; the worst value for the goal when there is none."""
        lo, hi = self.size, self.size + min(interval, self.size)
        top = -math.inf
        while lo < hi:
            if lo & 1:
                top = max(top, self.tree[lo])
                lo += 1
            if hi & 1:
                hi -= 1
                top = max(top, self.tree[hi])
            lo //= 2
            hi //= 2
        return worst(self.goal) if top == -math.inf else self._up(top)

    def _up(self, x: float) -> float:
        return x if self.goal == "maximize" else -x

    def _grow(self) -> None:
        leaves = self.tree[self.size :] + [-math.inf] * self.size
        self.size *= 2
        self.tree = [-math.inf] * self.size + leaves
        for i in range(self.size - 1, 0, -1):
            self.tree[i] = max(self.tree[2 * i], self.tree[2 * i + 1])
