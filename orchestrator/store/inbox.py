"""The scheduler's side of the inboxes: the shared one (new-sweep announcements) and one per led sweep."""

from __future__ import annotations

from typing import Any

import redis

from orchestrator.store.keys import Keys
from orchestrator.store.ledger import text

BATCH = 10_000  # messages taken from an inbox at once


class Inboxes:
    """Takes inbox messages for a scheduler, waiting briefly when there are none.

    One BLMPOP per call (Redis 7) rather than a pipeline of LPOPs, then a BLPOP, then an LPOP: a trial's end wakes
    the scheduler once per trial, so this is one round trip per trial instead of three. BLMPOP returns one inbox's
    messages; the led sweeps' inboxes take turns at the front, so a busy sweep never starves the others, and the
    shared inbox always comes first. Redis 6 has no BLMPOP: there, the three calls.
    """

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client, self.keys = client, keys
        self._turn = 0
        self._blmpop = True  # until a Redis without BLMPOP says otherwise

    def take(self, sweeps: list[str], wait: float) -> list[Any]:
        """Messages from the shared inbox or one of `sweeps`' inboxes; waits up to `wait` seconds for one."""
        inboxes = [self.keys.sweep_inbox(s) for s in sweeps]
        if inboxes:
            self._turn = (self._turn + 1) % len(inboxes)
            inboxes = inboxes[self._turn :] + inboxes[: self._turn]
        keys = [self.keys.inbox, *inboxes]
        wait = max(wait, 0.001)  # 0 would block for good
        if self._blmpop:
            try:
                reply: Any = self.client.blmpop(wait, len(keys), *keys, direction="LEFT", count=BATCH)
                return list(reply[1]) if reply else []
            except redis.ResponseError as exc:
                if "unknown command" not in str(exc).lower():
                    raise
                self._blmpop = False
        return self._take_each(keys, wait)

    def _take_each(self, keys: list[str], wait: float) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.lpop(key, BATCH)
        messages: list[Any] = [m for batch in pipe.execute() for m in batch or ()]
        if messages:
            return messages
        first = self.client.blpop(keys, timeout=wait)
        if first is None:
            return []
        return [first[1], *(self.client.lpop(text(first[0]), BATCH) or [])]
