"""Order statistics of a multiset of floats under inserts and deletes, without a positional index (pure).

Two heaps split the values: the lower part as a max-heap, the upper part as a min-heap, with lazy deletion. The
lower part holds `low_size(n)` of the n values, so the top of the lower part is the value at that rank: the
median (statistics.median's, with the upper top for an even count), ASHA's keep-th best at a rung, hyperband's
threshold at a band. An insert costs a heap push or two (O(1) on average, O(log n) at worst, in C), a read is O(1).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable


def half(n: int) -> int:
    """The lower part of a median split: the middle value and those below it."""
    return (n + 1) // 2


class RunningRank:
    """Invariant: every live value of the lower part <= every live value of the upper part; the lower part holds
    low_size(n) live values; both heap tops are live."""

    def __init__(self, low_size: Callable[[int], int] = half) -> None:
        self.low_size = low_size
        self._low: list[float] = []  # negated: heapq is a min-heap
        self._high: list[float] = []
        self._gone_low: Counter[float] = Counter()  # removed, still in the heap (by value, not negated)
        self._gone_high: Counter[float] = Counter()
        self._n_low = 0
        self._n_high = 0

    def __len__(self) -> int:
        return self._n_low + self._n_high

    def add(self, x: float) -> None:
        if self._n_low and x <= -self._low[0]:
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

    def low_top(self) -> float:
        """The largest value of the lower part: the value at ascending position low_size(n) - 1."""
        return -self._low[0]

    def median(self) -> float:
        """statistics.median of the values (with the default split): the middle one, or the mean of the two."""
        if not len(self):
            raise ValueError("no median of no values")
        if self._n_low > self._n_high:
            return -self._low[0]
        return (-self._low[0] + self._high[0]) / 2

    def _balance(self) -> None:
        target = max(0, min(self.low_size(len(self)), len(self)))
        while self._n_low > target:
            heapq.heappush(self._high, -heapq.heappop(self._low))
            self._n_low, self._n_high = self._n_low - 1, self._n_high + 1
            self._prune()
        while self._n_low < target:
            heapq.heappush(self._low, -heapq.heappop(self._high))
            self._n_low, self._n_high = self._n_low + 1, self._n_high - 1
            self._prune()

    def _prune(self) -> None:
        while self._low and self._gone_low[-self._low[0]]:
            self._gone_low[-heapq.heappop(self._low)] -= 1
        while self._high and self._gone_high[self._high[0]]:
            self._gone_high[heapq.heappop(self._high)] -= 1


RunningMedian = RunningRank
