"""A batch's commit on a real Redis that lost its scripts (restarted, or SCRIPT FLUSH): the decisions, the stop and
the compaction are sent again after loading the scripts, so the batch lands once and whole."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from orchestrator.store.keys import Keys
from orchestrator.store.ledger import Ledger
from orchestrator.store.streams import Report, ReportWriter, commit, curve_entries

GROUP = "evaluator"


@pytest.fixture
def ledger(redis_url: str) -> Iterator[Ledger]:
    client = redis.Redis.from_url(redis_url)
    ledger = Ledger(client, Keys(f"t{uuid.uuid4().hex[:8]}"))
    yield ledger
    for key in client.scan_iter(f"{ledger.keys.prefix}:*"):
        client.delete(key)


def test_a_commit_after_the_server_lost_its_scripts_writes_the_batch_once(ledger: Ledger) -> None:
    r, keys, sweep = ledger.r, ledger.keys, "s"
    ledger.create_trials(sweep, [{"number": 0, "attempt": 1, "status": "running", "params": {}}], 1)
    r.xgroup_create(keys.metrics(sweep), GROUP, id="0", mkstream=True)
    writer = ReportWriter(r, keys, sweep, lease_s=30, owner="w")
    for step in (1, 2, 3):
        assert writer.append(Report("", 0, 1, step, {"score": 0.1 * step}, time.time()), {"reports": step}, step)[0] == 1
    writer.close()
    entries: Any = r.xreadgroup(GROUP, "me", {keys.metrics(sweep): ">"})[0][1]

    def writes(pipe: Any) -> None:
        pipe.hsetnx(keys.decisions(sweep), "0:3", '{"action":"stop"}')
        ledger.queue_stop(pipe, sweep, 0, 1)

    r.script_flush()  # what a restarted server without persistence of scripts looks like
    acked = commit(r, keys, sweep, GROUP, entries, trim_to="0-0", writes=writes, reload=ledger.load_scripts)
    assert acked == 3
    assert len(curve_entries(r, keys, sweep, [0])) == 3  # compacted once, not twice
    assert ledger.stop_reason(sweep, 0) == "stopped"
    assert (ledger.trial(sweep, 0) or {}).get("stop_reason") == "stopped"
    assert r.hget(keys.decisions(sweep), "0:3") is not None
    assert r.xpending(keys.metrics(sweep), GROUP)["pending"] == 0


def test_a_commit_without_writes_after_the_server_lost_its_scripts_compacts_the_batch(ledger: Ledger) -> None:
    r, keys, sweep = ledger.r, ledger.keys, "s"
    ledger.create_trials(sweep, [{"number": 0, "attempt": 1, "status": "running", "params": {}}], 1)
    r.xgroup_create(keys.metrics(sweep), GROUP, id="0", mkstream=True)
    writer = ReportWriter(r, keys, sweep, lease_s=30, owner="w")
    assert writer.append(Report("", 0, 1, 1, {"score": 0.1}, time.time()), {"reports": 1}, 1)[0] == 1
    writer.close()
    entries: Any = r.xreadgroup(GROUP, "me", {keys.metrics(sweep): ">"})[0][1]
    r.script_flush()
    assert commit(r, keys, sweep, GROUP, entries, trim_to="0-0", continues=1) == 1
    assert len(curve_entries(r, keys, sweep, [0])) == 1
    assert int(r.get(keys.continues(sweep)) or 0) == 1
    assert r.xpending(keys.metrics(sweep), GROUP)["pending"] == 0
