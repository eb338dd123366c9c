"""Every write of a trial attempt is fenced by its attempt and lease owner (real Redis, real worker processes).

A reaped attempt whose retry already runs cannot change the trial's best, last or reports, nor add to its metric
stream; a report re-sent after a timeout lands once; a heartbeat that finds its lease lost stops the trial.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from orchestrator.settings import Settings
from orchestrator.store.connection import Outage, redis_client
from orchestrator.store.keys import Keys
from orchestrator.store.ledger import Ledger
from orchestrator.store.streams import DUPLICATE, WRITTEN, Report, ReportWriter, read_reports
from tests.faults.private_redis import free_port
from tests.integration.conftest import Cluster, wait_until
from workers.reporting import LOST_REASON, Reporter, TrialStopped, activate, report

pytestmark = pytest.mark.integration
SWEEP = "fence"
LOG = logging.getLogger("test")


@pytest.fixture
def store(redis_url: str) -> Iterator[tuple[redis.Redis, Ledger]]:
    client = redis.Redis.from_url(redis_url)
    keys = Keys(f"t{uuid.uuid4().hex[:8]}")
    yield client, Ledger(client, keys)
    for key in client.scan_iter(f"{keys.prefix}:*"):
        client.delete(key)


def start(ledger: Ledger, owner: str, attempt: int = 1, lease_s: float = 5.0) -> Reporter:
    """Claim trial 0 for `owner` (creating it first for attempt 1) and return its reporter."""
    if attempt == 1:
        record = {"number": 0, "attempt": 1, "params": {"x": 1}, "status": "queued"}
        ledger.create_trials(SWEEP, [record], 1)
    claimed = ledger.claim(SWEEP, 0, attempt, owner, lease_s, {"status": "running"})
    assert not isinstance(claimed, int), claimed
    reporter = Reporter(ledger.r, ledger.keys, SWEEP, 0, attempt, "score", "maximize", lease_s=lease_s)
    reporter.own(owner)
    return reporter


def reap(ledger: Ledger, attempt: int) -> None:
    """What the scheduler does with a trial whose lease ran out: the next attempt, queued (a compare-and-set)."""
    ledger.r.delete(ledger.keys.lease(SWEEP, 0))
    fields = {"status": "queued", "attempt": attempt + 1}
    assert ledger.transition(SWEEP, 0, ["running"], fields, attempt=attempt, only_without_lease=True, notify=False)


def snapshot(ledger: Ledger) -> tuple[dict[str, object], list[tuple[int, int]]]:
    record = ledger.trial(SWEEP, 0) or {}
    entries = [(r.attempt, r.step) for r in read_reports(ledger.r, ledger.keys, SWEEP)]
    return {k: record.get(k) for k in ("status", "attempt", "best", "last", "reports", "report_seq")}, entries


def test_a_reaped_attempt_s_reports_and_outcome_change_nothing_once_its_retry_runs(
    store: tuple[redis.Redis, Ledger],
) -> None:
    _, ledger = store
    stale = start(ledger, "host-a/1/task-1")
    assert stale.send({"score": 0.5}, 1) is None
    reap(ledger, attempt=1)
    retry = start(ledger, "host-b/2/task-2", attempt=2)
    assert retry.send({"score": 0.2}, 1) is None
    before = snapshot(ledger)
    assert before[0]["best"] == 0.2 and before[0]["attempt"] == 2

    activate(stale)
    try:
        with pytest.raises(TrialStopped) as stopped:
            report(score=0.99, step=2)  # a better value: it would become the best if it landed
    finally:
        activate(None)
    assert stopped.value.reason == LOST_REASON and stale.lost is not None
    assert stale.heartbeat(ledger, Outage(LOG, "test")) == LOST_REASON
    outcome = {"status": "completed", "value": 0.99, "best": 0.99}
    assert not ledger.transition(SWEEP, 0, ["running"], outcome, attempt=1, drop_lease=True, notify=False)
    assert snapshot(ledger) == before
    assert ledger.r.get(ledger.keys.lease(SWEEP, 0)) == b"host-b/2/task-2"  # the retry keeps its lease


def test_a_report_re_sent_after_a_timeout_lands_once(store: tuple[redis.Redis, Ledger]) -> None:
    _, ledger = store
    start(ledger, "host-a/1/task-1")
    writer = ReportWriter(ledger.r, ledger.keys, SWEEP, lease_s=5, owner="host-a/1/task-1")
    first = Report("", 0, 1, 1, {"score": 0.5}, time.time())
    assert writer.append(first, {"last": 0.5, "reports": 1}, seq=1) == (WRITTEN, None)
    assert writer.append(first, {"last": 0.5, "reports": 1}, seq=1) == (DUPLICATE, None)  # the re-send
    second_metric_same_step = Report("", 0, 1, 1, {"loss": 0.7}, time.time())
    assert writer.append(second_metric_same_step, {}, seq=2) == (WRITTEN, None)  # another report() call
    assert [(r.step, r.seq, r.values) for r in read_reports(ledger.r, ledger.keys, SWEEP)] == [
        (1, 1, {"score": 0.5}), (1, 2, {"loss": 0.7}),
    ]
    writer.close()


def test_heartbeat_stops_a_trial_whose_lease_is_lost_and_retakes_one_that_only_ran_out(
    store: tuple[redis.Redis, Ledger],
) -> None:
    _, ledger = store
    reporter = start(ledger, "host-a/1/task-1", lease_s=5)
    lease = ledger.keys.lease(SWEEP, 0)
    ledger.r.delete(lease)  # ran out while Redis was away (an AOF restart restores absolute expiry times)
    assert reporter.heartbeat(ledger, Outage(LOG, "test")) is None
    assert ledger.r.get(lease) == b"host-a/1/task-1" and reporter.lost is None
    ledger.r.set(lease, "someone-else")  # owned by another worker: lost
    assert reporter.heartbeat(ledger, Outage(LOG, "test")) == LOST_REASON
    assert reporter.lost is not None


def test_a_worker_that_cannot_reach_redis_stops_its_trial_before_its_lease_ends(
    store: tuple[redis.Redis, Ledger],
) -> None:
    _, ledger = store
    reporter = start(ledger, "host-a/1/task-1", lease_s=2)
    nowhere = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_connect_timeout=0.2)  # nothing listens
    cut_off = redis_client(nowhere)  # the worker's own client: explicit timeouts, two quick retries
    reporter.client = cut_off
    unreachable = Ledger(cut_off, ledger.keys)
    outage = Outage(LOG, "test")
    assert reporter.heartbeat(unreachable, outage) is None  # within the lease: keep going, retry soon
    reporter.renewed_at -= 1.7  # 85 % of the lease has passed without a renewal
    assert reporter.heartbeat(unreachable, outage) == LOST_REASON
    assert reporter.lost is not None and outage.down


def test_a_lost_lease_stops_a_running_command_trial_within_a_heartbeat(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(1)
    script = "import time\nprint('score=1', flush=True)\ntime.sleep(60)\n"
    spec = cluster.spec(trial={"command": [sys.executable, "-c", script]}, limits={"max_total_runs": 1})
    sweep = cluster.client.submit(spec)
    ledger = cluster.client.ledger
    running = wait_until(
        lambda: next((t for t in ledger.trials(sweep.id) if t["status"] == "running" and t.get("pgid")), None),
        60, "the trial",
    )
    ledger.r.set(ledger.keys.lease(sweep.id, running["number"]), "another-worker", px=60_000)  # the lease is lost
    stolen = time.monotonic()
    wait_until(lambda: not _alive(int(running["pgid"])), 10, "the trial's process group to be killed")
    assert time.monotonic() - stolen < 1 + 2 + 2  # a heartbeat (0.5 s) + SIGTERM grace (2 s) + slack
    wait_until(lambda: "no longer owns" in cluster.logs() or "lease lost" in cluster.logs(), 10, "the worker's log")
    assert (ledger.trial(sweep.id, running["number"]) or {}).get("status") == "running"  # nothing written over it


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_lost_lease_interrupts_a_python_trial_that_never_reports(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(1)
    spec = cluster.spec(trial={"function": "tests.integration.trials:silent"},  # sleeps 120 s without a report
                        limits={"max_total_runs": 2, "max_concurrent_runs": 2})
    sweep = cluster.client.submit(spec)
    ledger = cluster.client.ledger
    first = wait_until(lambda: next((t for t in ledger.trials(sweep.id) if t["status"] == "running"), None), 60, "a trial")
    ledger.r.set(ledger.keys.lease(sweep.id, first["number"]), "another-worker", px=60_000)  # the lease is lost
    # The only pool process is freed within a heartbeat, so the other trial starts long before 120 s.
    wait_until(lambda: any(t["status"] == "running" and t["number"] != first["number"] for t in ledger.trials(sweep.id)),
               15, "the other trial to start on the freed pool process")
    assert (ledger.trial(sweep.id, first["number"]) or {}).get("status") == "running"  # its outcome was not written


def test_a_claim_whose_reply_was_lost_is_returned_to_its_owner_and_refused_to_others(
    store: tuple[redis.Redis, Ledger],
) -> None:
    _, ledger = store
    start(ledger, "host-a/1/task-1")
    again = ledger.claim(SWEEP, 0, 1, "host-a/1/task-1", 5.0, {"status": "running"})  # the retried claim
    assert again == ({"x": 1}, None)
    assert ledger.claim(SWEEP, 0, 1, "host-b/2/task-9", 5.0, {"status": "running"}) == -1  # a duplicate message


def test_reports_redis_lost_in_a_restart_are_re_sent_once_the_outage_is_over(store: tuple[redis.Redis, Ledger]) -> None:
    """AOF everysec may lose writes Redis acknowledged just before it died: the attempt re-sends its recent reports
    after the outage (idempotent by sequence number), so none is missing and none lands twice."""
    _, ledger = store
    reporter = start(ledger, "host-a/1/task-1")
    for step, score in ((1, 0.1), (2, 0.3), (3, 0.2)):
        assert reporter.send({"score": score}, step) is None
    # Redis comes back from its AOF without the last two reports: the state it had after the first one.
    stream = ledger.keys.metrics(SWEEP)
    for entry_id, _ in ledger.r.xrange(stream)[1:]:
        ledger.r.xdel(stream, entry_id)
    ledger.r.hset(ledger.keys.trial(SWEEP, 0), mapping={"report_seq": "[1,1]", "last": "0.1", "best": "0.1", "reports": "1"})
    reporter.suspect_outage()  # what a failed call during the outage records
    assert reporter.send({"score": 0.4}, 4) is None
    assert [(r.step, r.seq) for r in read_reports(ledger.r, ledger.keys, SWEEP)] == [(1, 1), (2, 2), (3, 3), (4, 4)]
    record = ledger.trial(SWEEP, 0) or {}
    assert (record["best"], record["last"], record["reports"]) == (0.4, 0.4, 4)
    assert reporter.send({"score": 0.5}, 5) is None  # no outage since: nothing is re-sent
    assert len(read_reports(ledger.r, ledger.keys, SWEEP)) == 5
