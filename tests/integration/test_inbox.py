"""The scheduler's inbox reader on a real Redis: one call returns an inbox's messages in order, a busy sweep's inbox
does not starve the others, and a Redis without BLMPOP (6.x) is served by the LPOP/BLPOP path with the same result."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from orchestrator.store.inbox import Inboxes
from orchestrator.store.keys import Keys


@pytest.fixture
def inboxes(redis_url: str) -> Iterator[tuple[redis.Redis, Inboxes]]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = Keys(f"t{uuid.uuid4().hex[:8]}")
    yield client, Inboxes(client, keys)
    for key in client.scan_iter(f"{keys.prefix}:*"):
        client.delete(key)


@pytest.mark.parametrize("blmpop", [True, False], ids=["BLMPOP", "Redis 6 path"])
def test_take_returns_an_inbox_in_order_and_waits_when_all_are_empty(
    inboxes: tuple[redis.Redis, Inboxes], blmpop: bool
) -> None:
    client, reader = inboxes
    reader._blmpop = blmpop
    client.rpush(reader.keys.sweep_inbox("a"), "trial a 1", "trial a 2", "trial a 3")
    assert reader.take(["a"], 0.05) == ["trial a 1", "trial a 2", "trial a 3"]
    started = time.monotonic()
    assert reader.take(["a"], 0.2) == []
    assert time.monotonic() - started >= 0.15  # it waited for a message rather than spinning


def test_a_busy_inbox_does_not_starve_the_others(inboxes: tuple[redis.Redis, Inboxes]) -> None:
    client, reader = inboxes
    sweeps = ["a", "b", "c"]
    for s in sweeps:
        client.rpush(reader.keys.sweep_inbox(s), f"trial {s} 0")
    served: list[str] = []
    for _ in range(len(sweeps)):
        client.rpush(reader.keys.sweep_inbox("a"), "trial a 9")  # "a" never runs dry
        served += {m.split()[1] for m in reader.take(sweeps, 0.05)}
    assert set(served) == set(sweeps)


def test_the_shared_inbox_comes_first(inboxes: tuple[redis.Redis, Inboxes]) -> None:
    client, reader = inboxes
    client.rpush(reader.keys.sweep_inbox("a"), "trial a 1")
    client.rpush(reader.keys.inbox, "sweep b")
    assert reader.take(["a"], 0.05) == ["sweep b"]
    assert reader.take(["a"], 0.05) == ["trial a 1"]
