"""Outage bookkeeping and retry_redis: one log line per outage and one when it ends, capped backoff, a deadline."""

from __future__ import annotations

import logging
import time

import pytest
import redis

from orchestrator.store.connection import Outage, retry_redis

LOG = logging.getLogger("sweepq.test-outage")


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    outage = Outage(LOG, "loop")
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        delays = [outage.failed(redis.ConnectionError("refused")) for _ in range(20)]
        assert outage.down
        assert outage.recovered() and not outage.recovered()  # only the first success ends it
        assert not outage.down
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "Redis unreachable" in messages[0] and "Redis is back" in messages[1]
    assert max(delays) <= 1.0 and delays[0] < 0.1  # starts small, capped at a second


def test_retry_redis_rides_out_failures_then_returns_the_result() -> None:
    failures = iter([redis.ConnectionError("refused"), redis.TimeoutError("slow"), redis.BusyLoadingError("AOF")])

    def call() -> str:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return "ok"

    outage = Outage(LOG, "call", cap=0.01)
    assert retry_redis(call, outage, time.monotonic() + 5) == "ok"
    assert not outage.down


def test_retry_redis_raises_at_its_deadline_or_when_told_to_give_up() -> None:
    def down() -> None:
        raise redis.ConnectionError("refused")

    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        retry_redis(down, Outage(LOG, "call", cap=0.05), started + 0.3)
    assert 0.1 < time.monotonic() - started < 1.0
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        retry_redis(down, Outage(LOG, "call"), started + 60, give_up=lambda: True)
    assert time.monotonic() - started < 0.5


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def wrong() -> None:
        calls.append(1)
        raise redis.ResponseError("WRONGTYPE")

    with pytest.raises(redis.ResponseError):
        retry_redis(wrong, Outage(LOG, "call"), time.monotonic() + 5)
    assert calls == [1]
