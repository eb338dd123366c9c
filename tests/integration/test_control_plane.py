"""The horizontal control plane on real Redis and processes: sweeps are led per sweep (a lease each), several
schedulers share them, and a killed one's sweeps move to the others within the lease time, no trial lost or run
twice."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import redis

from orchestrator.store.keys import Keys
from orchestrator.store.leadership import SweepLeadership
from tests.integration.conftest import Cluster, kill_group, wait_until

pytestmark = pytest.mark.integration
LOCK_SECONDS = 3  # SWEEPQ_SCHEDULER_LOCK_SECONDS of the test cluster


def _leaders(r: redis.Redis, keys: Keys, sweep_ids: list[str], role: str) -> dict[str, str | None]:
    values = r.mget([keys.sweep_lead(s, role) for s in sweep_ids])
    return {s: None if v is None else v.decode() for s, v in zip(sweep_ids, values, strict=True)}


def _pid(owner: str | None) -> int | None:
    return None if owner is None else int(owner.split("/")[1])


def test_lease_holders_share_sweeps_fairly_and_take_over_a_silent_one(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    keys = Keys(f"t{uuid.uuid4().hex[:8]}")
    sweeps = [f"s{i}" for i in range(4)]
    r.sadd(keys.active, *sweeps)
    a, b = (SweepLeadership(r, keys, "scheduler", name, 0.5) for name in ("a", "b"))
    a.tick(sweeps)
    assert a.held == set(sweeps)  # alone: everything
    b.tick(sweeps)
    assert b.held == set()  # all held by a live process: nothing taken from it
    gained, lost = a.tick(sweeps)
    assert (gained, len(lost)) == (set(), 1)  # a is over its share of 2: one sweep given back per tick
    b.tick(sweeps)
    a.tick(sweeps)
    b.tick(sweeps)
    assert (len(a.held), len(b.held)) == (2, 2) and not a.held & b.held
    before = set(a.held)
    time.sleep(0.6)  # a goes silent: its leases and its registration run out
    gained, _ = b.tick(sweeps)
    assert b.held == set(sweeps) and gained == before
    gained, lost = a.tick(sweeps)  # a comes back: it learns its sweeps are gone, and takes none from b
    assert (gained, lost, a.held) == (set(), before, set())


def test_a_sweep_that_ends_is_given_back(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    keys = Keys(f"t{uuid.uuid4().hex[:8]}")
    lead = SweepLeadership(r, keys, "evaluator", "a", 5)
    lead.tick(["s0", "s1"])
    _, lost = lead.tick(["s1"])
    assert lost == {"s0"} and r.get(keys.sweep_lead("s0", "evaluator")) is None
    lead.release_all()
    assert r.get(keys.sweep_lead("s1", "evaluator")) is None and r.zcard(keys.members("evaluator")) == 0


def test_schedulers_share_the_sweeps_and_a_killed_one_s_move_within_the_lease(cluster: Cluster, tmp_path: Path) -> None:
    r, keys = cluster.client.ledger.r, cluster.client.ledger.keys
    schedulers = {p.pid: p for p in (cluster.scheduler() for _ in range(3))}
    wait_until(lambda: r.zcard(keys.members("scheduler")) == 3, 30, "three schedulers registered")
    cluster.worker(concurrency=4)
    spec = cluster.spec(trial={"function": "tests.integration.trials:tally"},
                        limits={"max_total_runs": 10, "max_concurrent_runs": 2},
                        early_termination={"policy": "median", "evaluation_interval": 1, "delay_evaluation": 2})
    sweeps = [cluster.client.submit({**spec, "name": f"shared-{i}"}) for i in range(6)]
    ids = [s.id for s in sweeps]
    leaders = wait_until(lambda: (lambda m: m if None not in m.values() else None)(_leaders(r, keys, ids, "scheduler")),
                         30, "every sweep led")
    per_scheduler = Counter(_pid(o) for o in leaders.values())
    assert set(per_scheduler) == set(schedulers) and max(per_scheduler.values()) == 2  # ceil(6 / 3) each
    evaluators = wait_until(lambda: (lambda m: m if None not in m.values() else None)(_leaders(r, keys, ids, "evaluator")),
                            30, "every sweep evaluated")
    assert len({_pid(o) for o in evaluators.values()}) > 1  # the evaluators share the sweeps too
    victim = _pid(leaders[ids[0]])
    orphans = [s for s, o in leaders.items() if _pid(o) == victim]
    kill_group(schedulers[victim])  # SIGKILL: its leases stay until they run out
    killed = time.monotonic()

    def taken_over() -> bool:
        active = {v.decode() for v in r.smembers(keys.active)}
        now = _leaders(r, keys, [s for s in orphans if s in active], "scheduler")
        return all(_pid(o) not in (None, victim) for o in now.values())

    wait_until(taken_over, LOCK_SECONDS + 10, "the dead scheduler's sweeps taken over")
    assert time.monotonic() - killed < LOCK_SECONDS + 10
    for sweep in sweeps:
        final = sweep.wait(timeout=120, progress=False)
        trials = sweep.trials()
        assert final["status"] == "completed", final
        assert [t["number"] for t in trials] == list(range(10))
        assert {t["status"] for t in trials} <= {"completed", "stopped"} and {t["attempt"] for t in trials} == {1}
        for t in trials:  # each trial executed exactly once
            ran = tmp_path / "artifacts" / sweep.id / f"trial-{t['number']}" / "executions"
            assert len(ran.read_text().split()) == 1, t

    def drained_and_let_go() -> bool:  # an evaluator sees an ended sweep at its next discovery (about a second)
        return r.scard(keys.draining) == 0 and all(v is None for v in _leaders(r, keys, ids, "evaluator").values())

    wait_until(drained_and_let_go, LOCK_SECONDS + 10, "every ended sweep drained and its evaluator lease let go")
