"""What users rely on when processes die or disagree: leases, restarts, queues, GPU slots, cancel and revoke."""

from __future__ import annotations

import os
import signal
import time

import pytest

from orchestrator.store.streams import read_reports
from tests.integration.conftest import Cluster, kill_group, wait_until
from tests.integration.test_execution import max_overlap

pytestmark = pytest.mark.integration


def test_workers_only_take_trials_from_their_own_queue(cluster: Cluster) -> None:
    cluster.scheduler()
    q_a, q_b = cluster.queue + "-a", cluster.queue + "-b"
    cluster.worker(2, q_a, "--name", f"alpha-{cluster.prefix}@%h")
    cluster.worker(2, q_b, "--name", f"beta-{cluster.prefix}@%h")
    sweep_a = cluster.client.submit(cluster.spec(name="on-a", resources={"queue": q_a}))
    sweep_b = cluster.client.submit(cluster.spec(name="on-b", resources={"queue": q_b}))
    for sweep in (sweep_a, sweep_b):
        assert sweep.wait(timeout=60, progress=False)["status"] == "completed"
    assert {t["worker"].split("-")[0] for t in sweep_a.trials()} == {"alpha"}
    assert {t["worker"].split("-")[0] for t in sweep_b.trials()} == {"beta"}


def test_a_restarted_scheduler_resumes_without_duplicate_or_lost_trials(cluster: Cluster) -> None:
    first = cluster.scheduler()
    cluster.worker(concurrency=3)
    sweep = cluster.client.submit(cluster.spec(limits={"max_total_runs": 15, "max_concurrent_runs": 3}))
    wait_until(lambda: (sweep.status()["counts"] or {}).get("completed", 0) >= 4, 60, "a few completed trials")
    kill_group(first)  # SIGKILL: no clean shutdown, the lock stays until its TTL
    time.sleep(1.0)
    cluster.scheduler()
    final = sweep.wait(timeout=90, progress=False)
    numbers = [t["number"] for t in sweep.trials()]
    assert final["status"] == "completed"
    assert numbers == list(range(15))
    assert final["counts"] == {"completed": 15}


def test_a_killed_worker_s_trial_is_retried_on_the_survivor_never_running_twice(cluster: Cluster) -> None:
    cluster.scheduler()
    doomed = cluster.worker(1, None, "--name", f"doomed-{cluster.prefix}@%h")
    spec = cluster.spec(trial={"function": "tests.integration.trials:slow"},
                        limits={"max_total_runs": 4, "max_concurrent_runs": 2, "max_retries": 1})
    sweep = cluster.client.submit(spec)
    running = wait_until(
        lambda: [t for t in sweep.trials() if t["status"] == "running" and (t["worker"] or "").startswith("doomed")],
        60, "a trial running on the doomed worker",
    )[0]
    time.sleep(0.5)
    kill_group(doomed)  # SIGKILL to the worker and its pool processes
    killed_at = time.time()
    cluster.worker(1, None, "--name", f"survivor-{cluster.prefix}@%h")
    retried = wait_until(
        lambda: next((t for t in sweep.trials() if t["number"] == running["number"] and t["attempt"] == 2), None),
        3 + 10, "the lost trial to be requeued",
    )
    assert retried["started"] is None or retried["started"] - killed_at < 3 + 10
    final = sweep.wait(timeout=90, progress=False)
    trials = sweep.trials()
    assert final["status"] == "completed" and [t["number"] for t in trials] == [0, 1, 2, 3]
    assert all(t["status"] == "completed" for t in trials)
    again = next(t for t in trials if t["number"] == running["number"])
    assert again["attempt"] == 2 and again["worker"].startswith("survivor")
    reports = [r for r in read_reports(cluster.client.ledger.r, cluster.client.ledger.keys, sweep.id)
               if r.trial == running["number"]]
    first_attempt = [r.time for r in reports if r.attempt == 1]
    second_attempt = [r.time for r in reports if r.attempt == 2]
    assert first_attempt and second_attempt and max(first_attempt) < min(second_attempt)


def test_without_retries_a_killed_worker_s_trial_is_failed_within_the_lease(cluster: Cluster) -> None:
    cluster.scheduler()
    doomed = cluster.worker(1)
    spec = cluster.spec(trial={"function": "tests.integration.trials:slow"}, limits={"max_total_runs": 2, "max_concurrent_runs": 1})
    sweep = cluster.client.submit(spec)
    wait_until(lambda: any(t["status"] == "running" for t in sweep.trials()), 60, "a running trial")
    kill_group(doomed)
    killed_at = time.time()
    failed = wait_until(lambda: [t for t in sweep.trials() if t["status"] == "failed"], 3 + 10, "the lost trial to fail")
    assert time.time() - killed_at < 3 + 10
    assert "worker lost" in failed[0]["error"]
    cluster.worker(1)
    assert sweep.wait(timeout=60, progress=False)["status"] == "completed"
    assert [t["status"] for t in sweep.trials()] == ["failed", "completed"]


def test_gpu_worker_gives_each_trial_its_own_visible_device(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.spawn("worker", "--queues", cluster.queue, "--gpus", "0,1", "--loglevel", "WARNING", log="gpu-worker.log")
    spec = cluster.spec(trial={"function": "tests.integration.trials:gpu"}, limits={"max_total_runs": 6, "max_concurrent_runs": 4})
    sweep = cluster.client.submit(spec)
    assert sweep.wait(timeout=60, progress=False)["status"] == "completed"
    trials = sweep.trials()
    assert {t["gpu"] for t in trials} == {"0", "1"}
    assert all(t["final_metrics"]["gpu"] == float(t["gpu"]) for t in trials)
    assert max_overlap(trials) <= 2  # one trial per GPU although the sweep allows 4
    for a in trials:
        for b in trials:
            if a is not b and a["started"] < b["ended"] and b["started"] < a["ended"]:
                assert a["gpu"] != b["gpu"]


def test_cancel_stops_reporting_trials_cooperatively_and_revokes_silent_ones(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(trial={"function": "tests.integration.trials:endless"}, limits={"max_total_runs": 5, "max_concurrent_runs": 2})
    sweep = cluster.client.submit(spec)
    wait_until(lambda: sum(t["status"] == "running" for t in sweep.trials()) == 2, 60, "two running trials")
    sweep.cancel()
    final = sweep.wait(timeout=20, progress=False)
    assert final["status"] == "canceled"
    assert [t["status"] for t in sweep.trials()] == ["canceled", "canceled"]

    silent = cluster.client.submit(cluster.spec(trial={"function": "tests.integration.trials:silent"},
                                                limits={"max_total_runs": 3, "max_concurrent_runs": 1}))
    wait_until(lambda: any(t["status"] == "running" for t in silent.trials()), 60, "a running silent trial")
    silent.cancel()
    canceled_at = time.time()
    assert silent.wait(timeout=30, progress=False)["status"] == "canceled"
    assert time.time() - canceled_at < 2 + 10  # grace, then revoke(terminate=True)
    [trial] = silent.trials()
    assert trial["status"] == "canceled" and "revoked" in trial["error"]


def test_a_command_trial_that_ignores_sigterm_is_killed_with_its_children(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    pidfile = cluster.tmp / "child.pid"
    script = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "while True:\n"
        "    print('loss=1.0', flush=True)\n"
        "    time.sleep(0.2)\n"
    )
    (cluster.tmp / "stubborn.py").write_text(script)
    spec = cluster.spec(trial={"command": ["${interpreter}", str(cluster.tmp / "stubborn.py")]},
                        metric={"name": "loss", "goal": "minimize"}, limits={"max_total_runs": 1, "max_concurrent_runs": 1})
    sweep = cluster.client.submit(spec)
    wait_until(lambda: pidfile.exists() and pidfile.read_text(), 60, "the trial's child process")
    child = int(pidfile.read_text())
    sweep.cancel()
    assert sweep.wait(timeout=30, progress=False)["status"] == "canceled"
    [trial] = sweep.trials()
    assert trial["status"] == "canceled"

    def gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        return open(f"/proc/{child}/stat").read().split()[2] == "Z"

    wait_until(gone, 10, "the trial's child to be killed")
    assert signal.SIGKILL  # the group got SIGKILL after SIGTERM was ignored (the child ignores SIGTERM too)


def test_pause_resume_and_stop_like_wandb(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(trial={"function": "tests.integration.trials:slow"}, limits={"max_total_runs": 10, "max_concurrent_runs": 1})
    sweep = cluster.client.submit(spec)
    wait_until(lambda: any(t["status"] == "running" for t in sweep.trials()), 60, "a running trial")
    sweep.pause()
    assert sweep.status()["status"] == "paused"
    wait_until(lambda: sweep.trials()[0]["status"] == "completed", 30, "the running trial to finish while paused")
    time.sleep(1.5)
    assert len(sweep.trials()) == 1  # nothing new while paused
    sweep.resume()
    wait_until(lambda: len(sweep.trials()) == 2 and sweep.trials()[1]["status"] == "running", 30, "the next trial")
    sweep.stop()
    final = sweep.wait(timeout=30, progress=False)
    assert final["status"] == "completed" and final["reason"] == "stopped by user"
    assert [t["status"] for t in sweep.trials()] == ["completed", "completed"]  # the running one finished
