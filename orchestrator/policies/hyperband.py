"""W&B's hyperband early termination: at each band, keep runs in the top 1/eta of the values seen there."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.policies.base import DEFAULT_SCHEDULE, Decision, Goal, Schedule, Table, best, clean, finite_or_none


def bands(min_iter: int | None, max_iter: int | None, s: int | None, eta: float) -> list[int]:
    """W&B's bands: max_iter divided by eta up to s times (ascending), else min_iter * eta^k."""
    if max_iter is not None:
        out, band = [], float(max_iter)
        for _ in range(s or 0):
            band /= eta
            if band < 1:
                break
            out.append(int(band))
        return sorted(out)
    assert min_iter is not None
    out, band = [], float(min_iter)
    while band <= 1e9 and len(out) < 100:
        out.append(int(band))
        band *= eta
    return out


@dataclass(frozen=True)
class Hyperband:
    """At the highest band b <= N: threshold = sorted values at position b of all runs that reached b, at rank
    int(len / eta) (best first; computed as W&B does: int((1 / eta) * len)).
    Non-strict compares r's best so far, strict its value at b; worse → stop.
    """

    goal: Goal
    bands: tuple[int, ...]
    eta: float = 3
    strict: bool = False
    schedule: Schedule = DEFAULT_SCHEDULE
    name: str = "hyperband"

    def applies(self, interval: int) -> bool:
        return self.schedule.applies(interval) and bool(self.bands) and interval >= self.bands[0]

    def decide(self, table: Table, trial: int, interval: int) -> Decision:
        band = max(b for b in self.bands if b <= interval)
        sign = 1.0 if self.goal == "minimize" else -1.0  # W&B works in "lower is better"
        at_band = sorted(sign * clean(c.values[band - 1], self.goal) for c in table.values() if len(c.values) >= band)
        threshold = at_band[int((1.0 / self.eta) * len(at_band))]  # W&B's arithmetic: for eta 1.5 and 3 runs, rank 1
        history = table[trial].values[:interval]
        mine = sign * (clean(history[band - 1], self.goal) if self.strict else best(history, self.goal))
        stop = mine > threshold
        kind = "value at band" if self.strict else "best so far"
        verdict = "worse than" if stop else "within"
        reason = f"band {band}: {kind} {sign * mine:.6g} {verdict} the top 1/{self.eta:g} threshold {sign * threshold:.6g}"
        return Decision(trial, interval, stop, finite_or_none(sign * mine), finite_or_none(sign * threshold), reason)


