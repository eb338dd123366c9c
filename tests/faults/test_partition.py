"""A worker cut off from Redis for longer than the lease: its trial is retried elsewhere, and the stale attempt,
once it can talk again, writes nothing (no report, no best/last, no outcome) and stops.

Two ways to cut a worker off:
- SIGSTOP of its whole process group (worker, pool process, trial) for longer than the lease, SIGCONT after the
  retry finished: what a frozen VM or a long GC pause looks like, and runs anywhere.
- a network namespace per worker host (a veth pair to a private redis-server bound to the host side), with the
  link taken down for longer than the lease and brought back: the kernel then delivers what the cut-off worker
  had sent. This needs root and `ip netns`; where the machine cannot create a namespace the test is skipped and
  says why.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.private_redis import PrivateRedis
from tests.faults.scenarios import Namespace, Unavailable, network_namespace, partition, stale_attempt
from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


@pytest.fixture
def net() -> Iterator[Namespace]:
    """A network namespace for one worker host, or a skip that says why this machine cannot make one."""
    with contextlib.ExitStack() as stack:
        try:
            namespace = stack.enter_context(network_namespace())
        except Unavailable as exc:
            pytest.skip(f"{exc}; the SIGSTOP test above covers fencing without a namespace")
        yield namespace


def test_a_frozen_worker_s_stale_attempt_writes_nothing_once_its_retry_finished(cluster: Cluster) -> None:
    audit, ev = stale_attempt(cluster)
    assert ev["frozen_s"] > float(cluster.env["SWEEPQ_LEASE_SECONDS"])
    assert ev["retried"]["attempt"] == 2 and ev["retried"]["worker"].startswith("rescuer")
    assert ev["after"] == ev["before"], "the stale attempt changed the trial or its stream after it was retried"
    assert ev["final"]["status"] == "completed"
    assert audit.clean, audit
    assert "no longer owns" in cluster.logs() or "lease lost" in cluster.logs()


def test_a_worker_host_partitioned_from_redis_longer_than_the_lease_writes_nothing_after_its_retry(
    net: Namespace, tmp_path: Path
) -> None:
    server = PrivateRedis(tmp_path / "redis", bind=net.host_ip)
    cluster = Cluster(server.url, tmp_path)
    try:
        server.start()
        audit, ev = partition(cluster, net)
    finally:
        cluster.close()
        server.kill()
    lease = float(cluster.env["SWEEPQ_LEASE_SECONDS"])
    assert ev["stopped_after"] < lease, "the cut-off worker kept its trial running past its lease"
    assert ev["retried"]["attempt"] == 2 and ev["retried"]["worker"].startswith("rescuer")
    assert ev["after"] == ev["before"], "the stale attempt changed the trial or its stream after the link came back"
    assert ev["final"]["status"] == "completed"
    assert audit.clean and audit.dead_processes == 0, audit
