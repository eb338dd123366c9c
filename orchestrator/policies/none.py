"""No early termination: every trial runs to its end."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.policies.base import Decision, Table


@dataclass(frozen=True)
class NoTermination:
    name: str = "none"

    def applies(self, interval: int) -> bool:
        return False

    def decide(self, table: Table, trial: int, interval: int) -> Decision:
        return Decision(trial, interval, False, None, None, "no early termination")
