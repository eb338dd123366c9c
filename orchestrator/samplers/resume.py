"""Resumed child trials come first: trials 0..k-1 of a sweep re-run earlier trials' parameters, then the
sweep's own sampler takes over (and learns of the resumed trials like of any other)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.samplers.base import Sampler, TrialRecord


class ResumeFirst:
    def __init__(self, inner: Sampler, children: Sequence[Mapping[str, Any]]) -> None:
        self.inner = inner
        self.children = [dict(c) for c in children]

    def ask(self, number: int) -> dict[str, Any] | None:
        if number < len(self.children):
            params = dict(self.children[number])
            self.inner.observe(TrialRecord(number, params, "queued"))
            return params
        return self.inner.ask(number)

    def observe(self, record: TrialRecord) -> None:
        self.inner.observe(record)

    def remaining(self) -> int | None:
        return self.inner.remaining()
