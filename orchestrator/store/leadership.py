"""Per-sweep leadership: each sweep is led by one scheduler (and one evaluator) holding a lease on it, so several
processes on several machines share the sweeps of an installation, and a dead one's sweeps move to the others once
its leases run out.

Every process of a role registers itself (a sorted set scored by expiry) and claims free sweeps up to its fair
share, ceil(sweeps / live processes); one holding more than its share gives one back per tick, so a process that
joins later gets work without any sweep being taken from a live holder. Handing a sweep over is safe at any moment:
the new leader reloads it from the ledger (see Scheduler._load and Evaluator._catch_up).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from orchestrator.store.keys import Keys
from orchestrator.store.ledger import RELEASE, RENEW


@dataclass(frozen=True)
class Plan:
    """What one process does with the free sweeps it sees: claim these, give back that many of its own."""

    claim: list[str]
    give_back: int


def share(total: int, live: int, mine: int, free: list[str]) -> Plan:
    """The fair-share rule (pure): claim free sweeps while under ceil(total / live), give one back when over it."""
    cap = math.ceil(total / max(live, 1))
    if mine > cap:
        return Plan([], 1)
    return Plan(free[: max(cap - mine, 0)], 0)


class SweepLeadership:
    """The sweep leases one process of a `role` ("scheduler" or "evaluator") holds; `tick()` keeps them."""

    def __init__(self, client: redis.Redis, keys: Keys, role: str, owner: str, seconds: float) -> None:
        self.r, self.keys, self.role, self.owner = client, keys, role, owner
        self.ms = int(seconds * 1000)
        self.held: set[str] = set()
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)

    def tick(self, candidates: Iterable[str]) -> tuple[set[str], set[str]]:
        """Renew held leases, claim free sweeps up to the fair share, give back a surplus; (gained, lost).

        A held sweep no longer among the candidates (it ended) is given back and counted as lost.
        """
        sweeps = sorted(set(candidates))
        live, holders = self._survey(sweeps)
        ours = self._renew_all([s for s in sweeps if holders[s] == self.owner])
        plan = share(len(sweeps), live, len(ours), [s for s in sweeps if holders[s] is None])
        held = set(ours) | set(self._claim_all(plan.claim))
        for sweep_id in sorted(ours, reverse=True)[: plan.give_back]:
            self._give_back(sweep_id)
            held.discard(sweep_id)
        for sweep_id in self.held - set(sweeps):
            self._give_back(sweep_id)
        gained, lost = held - self.held, self.held - held
        self.held = held
        return gained, lost

    def claim(self, sweep_id: str) -> bool:
        """Claim one announced sweep at once if it is free and within this process's share (a new submission)."""
        live, holders = self._survey([sweep_id])
        total = int(self.r.scard(self.keys.active) or 1)
        if holders[sweep_id] is not None or not share(total, live, len(self.held), [sweep_id]).claim:
            return holders[sweep_id] == self.owner and sweep_id in self.held
        if self._claim_all([sweep_id]):
            self.held.add(sweep_id)
            return True
        return False

    def release(self, sweep_id: str) -> None:
        """Give one sweep back (it ended here, or is handed to a process with fewer)."""
        self._give_back(sweep_id)
        self.held.discard(sweep_id)

    def _give_back(self, sweep_id: str) -> None:
        self._release(keys=[self.keys.sweep_lead(sweep_id, self.role)], args=[self.owner])

    def release_all(self) -> None:
        """Give every lease back and leave the registry (a clean shutdown hands the sweeps over at once)."""
        for sweep_id in list(self.held):
            self.release(sweep_id)
        self.r.zrem(self.keys.members(self.role), self.owner)

    def forget(self) -> None:
        """After a Redis outage: treat every lease still ours as newly gained, so its sweep is reloaded."""
        self.held = set()

    def _survey(self, sweeps: list[str]) -> tuple[int, dict[str, str | None]]:
        """Register this process and count the live ones; who holds each sweep (one round trip)."""
        now = int(time.time() * 1000)
        pipe = self.r.pipeline(transaction=False)
        pipe.zadd(self.keys.members(self.role), {self.owner: now + self.ms})
        pipe.zremrangebyscore(self.keys.members(self.role), "-inf", now)
        pipe.zcard(self.keys.members(self.role))
        for sweep_id in sweeps:
            pipe.get(self.keys.sweep_lead(sweep_id, self.role))
        replies: list[Any] = pipe.execute()
        holders = {s: (None if h is None else h.decode()) for s, h in zip(sweeps, replies[3:], strict=True)}
        return int(replies[2]), holders

    def _renew_all(self, sweeps: list[str]) -> list[str]:
        pipe = self.r.pipeline(transaction=False)
        for sweep_id in sweeps:
            self._renew(keys=[self.keys.sweep_lead(sweep_id, self.role)], args=[self.owner, self.ms], client=pipe)
        return [s for s, ok in zip(sweeps, pipe.execute(), strict=True) if ok]

    def _claim_all(self, sweeps: list[str]) -> list[str]:
        pipe = self.r.pipeline(transaction=False)
        for sweep_id in sweeps:
            pipe.set(self.keys.sweep_lead(sweep_id, self.role), self.owner, nx=True, px=self.ms)
        return [s for s, ok in zip(sweeps, pipe.execute(), strict=True) if ok]
