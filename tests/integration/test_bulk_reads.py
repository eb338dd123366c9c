"""Bulk reads on a real Redis: the ledger's read of many trials gives the same records as reading each hash and
decoding it field by field (hand-written values and missing trials included), and overlapped script calls answer
in order without leaving a reply behind on a pooled connection."""

from __future__ import annotations

import json
import math
import uuid

import pytest
import redis

from orchestrator.store.codec import decode_fields, encode_fields
from orchestrator.store.keys import Keys
from orchestrator.store.ledger import Ledger
from orchestrator.store.overlap import Call, overlapped

pytestmark = pytest.mark.integration
FIELDS = ["number", "status", "params", "value", "error", "worker"]


def _ledger(redis_url: str) -> Ledger:
    return Ledger(redis.Redis.from_url(redis_url), Keys(f"t{uuid.uuid4().hex[:8]}"))


def _expected(ledger: Ledger, sweep: str, numbers: list[int]) -> list[str]:
    raws = [ledger.r.hmget(ledger.keys.trial(sweep, n), FIELDS) for n in numbers]
    records = [decode_fields({f: v for f, v in zip(FIELDS, raw, strict=True) if v is not None}) for raw in raws]
    return [json.dumps(r, sort_keys=True) for r in records if r]


@pytest.mark.parametrize("hand_written", [None, b"not json", b'"x", "value": 2'])
def test_bulk_trial_fields_read_as_each_hash_decoded(redis_url: str, hand_written: bytes | None) -> None:
    ledger, sweep = _ledger(redis_url), "s"
    for n in range(0, 30, 1):
        if n % 7 == 3:
            continue  # a missing trial is left out
        record = {"number": n, "status": "completed", "params": {"lr": 0.1 * n, "x": math.nan if n == 5 else n},
                  "value": math.inf if n == 8 else n / 3, "error": 'a "quoted"\nline' if n % 4 == 0 else None}
        ledger.r.hset(ledger.keys.trial(sweep, n), mapping=encode_fields(record))
    if hand_written is not None:
        ledger.r.hset(ledger.keys.trial(sweep, 11), "worker", hand_written)
    numbers = list(range(30))
    got = ledger.trial_fields(sweep, numbers, FIELDS)
    assert [json.dumps(r, sort_keys=True) for r in got] == _expected(ledger, sweep, numbers)
    assert math.isnan(got[4]["params"]["x"]) and len(got) == 30 - len(range(3, 30, 7))
    assert ledger.trial_fields(sweep, [], FIELDS) == [] and ledger.trial_fields(sweep, [3, 10], FIELDS) == []


ECHO_KEYS = "return KEYS"


def test_overlapped_calls_answer_in_order_and_leave_the_pool_clean(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url, max_connections=1)  # one connection: a stale reply would show at once
    calls = [Call(ECHO_KEYS, [f"k{i}", f"j{i}"]) for i in range(50)]
    assert list(overlapped(r, calls)) == [[f"k{i}".encode(), f"j{i}".encode()] for i in range(50)]
    replies = overlapped(r, calls)
    assert next(replies) == [b"k0", b"j0"]
    replies.close()  # the caller stops early: 49 replies were never read
    assert r.echo("next") == b"next" and list(overlapped(r, calls[:2])) == [[b"k0", b"j0"], [b"k1", b"j1"]]


def test_an_error_reply_is_raised_and_the_connection_dropped(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url, max_connections=1)
    calls = [Call(ECHO_KEYS, ["a"]), Call("return redis.error_reply('broken')", []), Call(ECHO_KEYS, ["b"])]
    replies = overlapped(r, calls)
    assert next(replies) == [b"a"]
    with pytest.raises(redis.ResponseError, match="broken"):
        next(replies)
    assert r.echo("after") == b"after"
