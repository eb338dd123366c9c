"""Grid sampling: every point of the (choice-only) grid exactly once, then the sweep ends."""

from __future__ import annotations

from typing import Any

from orchestrator.samplers.base import TrialRecord
from orchestrator.space import SearchSpace, value_key


def _point_key(params: dict[str, Any] | Any) -> tuple[Any, ...]:
    return tuple(sorted((k, value_key(v)) for k, v in dict(params).items()))


class GridSampler:
    """Hands out grid points in order, skipping any point already taken (by this sweep or a warm start)."""

    def __init__(self, space: SearchSpace) -> None:
        self.points = list(space.grid())
        self.taken: set[tuple[Any, ...]] = set()
        self.cursor = 0

    def ask(self, number: int) -> dict[str, Any] | None:
        while self.cursor < len(self.points):
            point = self.points[self.cursor]
            self.cursor += 1
            key = _point_key(point)
            if key not in self.taken:
                self.taken.add(key)
                return dict(point)
        return None

    def observe(self, record: TrialRecord) -> None:
        self.taken.add(_point_key(record.params))

    def remaining(self) -> int:
        return sum(1 for p in self.points[self.cursor :] if _point_key(p) not in self.taken)
