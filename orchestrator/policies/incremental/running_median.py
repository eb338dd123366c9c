"""The median of a multiset of floats under inserts and deletes, as statistics.median gives it (pure).

Two heaps (the lower half as a max-heap, the upper half as a min-heap) with lazy deletion: an insert costs one
heap push (O(1) on average, O(log n) at worst, in C), the median is read from the two tops. The median stopping
policy reads only the median of the running averages at an interval, so it needs no positional index.
"""

from __future__ import annotations

import heapq
from collections import Counter


class RunningMedian:
    """Invariant: every live value of the lower half <= every live value of the upper half, and the lower half
    holds as many live values as the upper one or one more; both heap tops are live."""

    def __init__(self) -> None:
        self._low: list[float] = []  # negated: heapq is a min-heap
        self._high: list[float] = []
        self._gone_low: Counter[float] = Counter()  # removed, still in the heap (by value, not negated)
        self._gone_high: Counter[float] = Counter()
        self._n_low = 0
        self._n_high = 0

    def __len__(self) -> int:
        return self._n_low + self._n_high

    def add(self, x: float) -> None:
        if self._n_low == 0 or x <= -self._low[0]:
            heapq.heappush(self._low, -x)
            self._n_low += 1
        else:
            heapq.heappush(self._high, x)
            self._n_high += 1
        self._balance()

    def remove(self, x: float) -> None:
        """Remove one value equal to x (which must be present)."""
        if self._n_low and x <= -self._low[0]:
            self._gone_low[x] += 1
            self._n_low -= 1
        else:
            self._gone_high[x] += 1
            self._n_high -= 1
        self._prune()
        self._balance()

    def median(self) -> float:
        """statistics.median of the values: the middle one, or the mean of the two middle ones."""
        if not len(self):
            raise ValueError("no median of no values")
        if self._n_low > self._n_high:
            return -self._low[0]
        return (-self._low[0] + self._high[0]) / 2

    def _balance(self) -> None:
        if self._n_low > self._n_high + 1:
            heapq.heappush(self._high, -heapq.heappop(self._low))
            self._n_low, self._n_high = self._n_low - 1, self._n_high + 1
        elif self._n_high > self._n_low:
            heapq.heappush(self._low, -heapq.heappop(self._high))
            self._n_low, self._n_high = self._n_low + 1, self._n_high - 1
        self._prune()

    def _prune(self) -> None:
        while self._low and self._gone_low[-self._low[0]]:
            self._gone_low[-heapq.heappop(self._low)] -= 1
        while self._high and self._gone_high[self._high[0]]:
            self._gone_high[heapq.heappop(self._high)] -= 1
