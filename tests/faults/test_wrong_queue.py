"""A worker runs a trial only from the sweep's own queue: a message for it on another queue is dropped."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import Cluster, wait_until
from workers.app import create_app
from workers.tasks import TRIAL_TASK

pytestmark = pytest.mark.integration


def test_a_trial_message_on_another_queue_is_dropped_and_the_sweeps_own_queue_runs_it(cluster: Cluster) -> None:
    spec = cluster.spec(trial={"function": "tests.integration.trials:quick"},
                        limits={"max_total_runs": 1, "max_concurrent_runs": 1})
    sweep = cluster.client.submit(spec)
    cluster.scheduler()  # no worker serves the sweep's queue yet: trial 0 waits there
    row = wait_until(lambda: next(iter(sweep.trials()), None), 30, "trial 0 queued")
    assert row["status"] == "queued"
    other = f"{cluster.queue}-other"
    kwargs = {"sweep": sweep.id, "trial": 0, "attempt": row.get("attempt", 1)}
    create_app(cluster.settings).send_task(TRIAL_TASK, kwargs=kwargs, queue=other)
    cluster.worker(1, other)  # serves only the other queue, where the forged copy waits
    wait_until(lambda: "wrong queue" in cluster.logs() or "delivered on queue" in cluster.logs(), 30,
               "the worker to drop the message")
    time.sleep(1)
    assert sweep.trials()[0]["status"] == "queued", "a message from another queue ran the trial"
    cluster.worker(1)  # the sweep's own queue
    wait_until(lambda: sweep.status()["status"] == "completed", 60, "the sweep to complete from its own queue")
    assert sweep.trials()[0]["status"] == "completed"
