"""Redis killed (SIGKILL, AOF on) and started again mid-sweep: the scheduler, the evaluator, the workers'
heartbeats, report() and the trials' final writes ride out the outage; nothing is lost, failed or run twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.private_redis import PrivateRedis
from tests.faults.scenarios import redis_outage
from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis", appendonly=True)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def private_cluster(private_redis: PrivateRedis, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(private_redis.url, tmp_path)
    yield c
    c.close()


def test_a_sweep_rides_out_a_redis_restart_with_aof_losing_nothing(
    private_cluster: Cluster, private_redis: PrivateRedis
) -> None:
    audit = redis_outage(private_cluster, private_redis, runs=12, down_s=8.0)
    assert audit.notes == ["sweep completed"], private_cluster.logs()
    assert audit.dead_processes == 0, "a scheduler or worker died with Redis"
    assert audit.trials_lost == 0 and audit.stuck == 0, private_cluster.logs()
    assert audit.results_lost == 0, "a completed trial misses reports or its value"
    assert audit.duplicates == 0, "a report landed twice"
    assert audit.reruns == 0, "a trial was re-run because Redis was away"
    logs = private_cluster.logs()
    assert "Redis unreachable" in logs and "Redis is back" in logs  # logged once per outage, not per failure
    assert "Traceback" not in logs
