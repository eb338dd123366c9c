"""Per-interval order statistics of a metrics table, kept up to date as reports arrive (pure: no I/O).

A decision at interval N needs, over the runs that reached N, the sorted values at N (ASHA, hyperband), the
sorted best(r, N) (truncation, with or without ended runs) or the sorted avg(r, N) (median), and the best value
any run reported within its first N intervals (bandit). Rebuilding those from the whole table costs O(trials)
per decision; here each report updates one sorted list (for avg(r, N): one running median) per kept statistic
(O(log n)), and a decision reads them.

A statistic is kept from the first time a policy asks for it (built once from the curves so far), so a sweep
pays only for what its policy reads. Values are cleaned as the pure policies clean them (NaN is the worst for
the goal), and best(r, N) and avg(r, N) are computed by the same functions, so numbers are bit-for-bit the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from sortedcontainers import SortedList

from orchestrator.policies.base import Curve, Goal, better, clean, mean
from orchestrator.policies.incremental.prefix import PrefixBest
from orchestrator.policies.incremental.ranks import RunningMedian, RunningRank

Stat = Callable[[int, int], float]  # (trial, interval) -> the trial's number at that interval


class Multiset(Protocol):
    def __len__(self) -> int: ...
    def add(self, value: float) -> None: ...
    def remove(self, value: float) -> None: ...


M = TypeVar("M", bound=Multiset)


class Family(Generic[M]):
    """One statistic at every interval N: a multiset (a sorted list, or a running median) of its values over the
    member runs that reached N."""

    def __init__(self, stat: Stat, open_only: bool, make: Callable[[], M]) -> None:
        self.stat = stat
        self.open_only = open_only  # only runs that have not ended (finished or stopped)
        self.make = make
        self.changed: Callable[[int], None] | None = None
        self.lists: list[M] = []

    def at(self, interval: int) -> M:
        while len(self.lists) < interval:
            self.lists.append(self.make())
        return self.lists[interval - 1]

    def add(self, trial: int, interval: int) -> None:
        self.at(interval).add(self.stat(trial, interval))
        if self.changed is not None:
            self.changed(interval)

    def remove(self, trial: int, interval: int) -> None:
        self.at(interval).remove(self.stat(trial, interval))
        if self.changed is not None:
            self.changed(interval)


class CurveIndex:
    """The curves of one sweep (current attempt of each trial, cut where it was stopped) and their statistics."""

    def __init__(self, goal: Goal) -> None:
        self.goal = goal
        self.curves: dict[int, list[float]] = {}  # raw values, as reported
        self.ended: set[int] = set()  # finished or stopped: what the pure policies see as Curve.finished
        self._bests: dict[int, list[float]] = {}  # best(r, N) for N = 1..len
        self._averages: dict[int, list[float]] | None = None  # avg(r, N), once a policy asks for averages
        self._families: dict[str, Family[Any]] = {}
        self._prefix: PrefixBest | None = None

    # -- what a policy reads --------------------------------------------------------------------------------
    def best(self, trial: int, interval: int) -> float:
        """best(r, N): the trial's best value (NaN as the worst) within its first N reports."""
        return self._bests[trial][interval - 1]

    def value(self, trial: int, interval: int) -> float:
        """The trial's cleaned value at interval N."""
        return clean(self.curves[trial][interval - 1], self.goal)

    def values_at(self, interval: int) -> SortedList[float]:
        """The cleaned values at interval N of every run that reached N, ascending."""
        return self._sorted("value").at(interval)

    def bests_at(self, interval: int, open_only: bool = False) -> SortedList[float]:
        """best(r, N) of every run that reached N (only the runs that have not ended, if open_only), ascending."""
        return self._sorted("open_best" if open_only else "best").at(interval)

    def ranked_at(self, key: str, interval: int, low_size: Callable[[int], int]) -> RunningRank:
        """The cleaned values at interval N of every run that reached N, split so that the lower part holds
        low_size(n) of the n values (its top is the value at that rank); `key` names the split."""
        family = self._families.get(key) or self._build(key, Family(self.value, False, lambda: RunningRank(low_size)))
        ranked: RunningRank = family.at(interval)
        return ranked

    def averages_at(self, interval: int) -> RunningMedian:
        """avg(r, N) of every run that reached N, as a running median (their median and count)."""
        family = self._families.get("average") or self._build("average", Family(self._average, False, RunningMedian))
        median: RunningMedian = family.at(interval)
        return median

    def best_within(self, interval: int) -> float:
        """The best value any run reported within its first N intervals (the worst value if none did)."""
        if self._prefix is None:
            values = self._sorted("value")
            self._prefix = PrefixBest(self.goal)
            for n, at in enumerate(values.lists, start=1):
                self._prefix.update(n, self._edge(at))
            values.changed = self._value_changed
        return self._prefix.best(interval)

    def _value_changed(self, interval: int) -> None:
        if self._prefix is not None:
            self._prefix.update(interval, self._edge(self._families["value"].at(interval)))

    def view(self) -> dict[int, Curve]:
        """The table the pure policies take (for a policy without an incremental version)."""
        return {n: Curve(values, n in self.ended) for n, values in self.curves.items()}

    # -- what the metrics table tells it --------------------------------------------------------------------
    def append(self, trial: int, value: float) -> int:
        """The trial reported its next value; returns the interval it completes."""
        curve = self.curves.setdefault(trial, [])
        bests = self._bests.setdefault(trial, [])
        curve.append(value)
        mine = clean(value, self.goal)
        bests.append(bests[-1] if bests and not better(mine, bests[-1], self.goal) else mine)
        if self._averages is not None:
            self._averages.setdefault(trial, []).append(mean(curve, self.goal))
        n = len(curve)
        for family in self._families.values():
            if not (family.open_only and trial in self.ended):
                family.add(trial, n)
        return n

    def truncate(self, trial: int, length: int) -> None:
        """The trial's curve ends at `length` (it was stopped there)."""
        curve = self.curves[trial]
        for n in range(len(curve), length, -1):
            for family in self._families.values():
                if not (family.open_only and trial in self.ended):
                    family.remove(trial, n)
            curve.pop()
            self._bests[trial].pop()
            if self._averages is not None:
                self._averages[trial].pop()

    def end(self, trial: int) -> None:
        """The trial finished or was stopped: it leaves the statistics of open runs."""
        if trial in self.ended:
            return
        for family in self._families.values():
            if family.open_only:
                for n in range(len(self.curves.get(trial, ())), 0, -1):
                    family.remove(trial, n)
        self.ended.add(trial)

    def reset(self, trial: int) -> None:
        """The trial was retried: its old curve leaves every statistic and a new, open one begins."""
        if trial in self.curves:
            self.truncate(trial, 0)
            del self.curves[trial], self._bests[trial]
            if self._averages is not None:
                self._averages.pop(trial, None)
        self.ended.discard(trial)

    # -- building a statistic the first time it is asked for ------------------------------------------------
    def _sorted(self, name: str) -> Family[SortedList[float]]:
        family = self._families.get(name)
        if family is None:
            kinds: dict[str, tuple[Stat, bool]] = {"value": (self.value, False), "best": (self.best, False)}
            stat, open_only = kinds.get(name, (self.best, True))  # "open_best": best(r, N) of runs still open
            family = self._build(name, Family(stat, open_only, SortedList))
        return family

    def _build(self, name: str, family: Family[Any]) -> Family[Any]:
        """Keep `family` from now on, starting from the curves so far."""
        if name == "average" and self._averages is None:
            self._averages = {t: [mean(c[:n], self.goal) for n in range(1, len(c) + 1)] for t, c in self.curves.items()}
        self._families[name] = family
        for trial, curve in self.curves.items():
            if not (family.open_only and trial in self.ended):
                for n in range(1, len(curve) + 1):
                    family.add(trial, n)
        return family

    def _average(self, trial: int, interval: int) -> float:
        assert self._averages is not None
        return self._averages[trial][interval - 1]

    def _edge(self, values: Sequence[float]) -> float | None:
        """The best of an ascending list of values, or None when it is empty."""
        if not values:
            return None
        return values[-1] if self.goal == "maximize" else values[0]
