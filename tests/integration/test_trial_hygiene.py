"""Trial hygiene on real Redis and real workers: nothing a trial started outlives it, and trials get a CPU share.

A trial (tests/integration/hygiene_trials.py) starts a multiprocessing pool it never closes, a subprocess, a shell
with a child of its own, and an orphan (its parent exits at once); after the trial ends by completion, a policy
stop, a cancel (cooperative or forced) or its timeout, none of those processes is alive (checked in /proc).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator.store.codec import metric_float
from orchestrator.store.streams import read_reports
from tests.integration.conftest import Cluster, wait_until
from workers.runners.reaper import kill_stale_group

ENDED = ("completed", "stopped", "canceled", "failed")


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (an unreaped zombie runs nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z"


def spawner_spec(cluster: Cluster, mode: str, **limits: Any) -> dict[str, Any]:
    return cluster.spec(
        trial={"function": "tests.integration.hygiene_trials:spawner"},
        parameters={"x": {"uniform": [0, 1]}, "mode": {"choice": [mode]}},
        limits={"max_total_runs": 1, "max_concurrent_runs": 1, **limits},
    )


def leftover_pids(cluster: Cluster, sweep_id: str) -> list[int]:
    path = cluster.tmp / "artifacts" / sweep_id / "trial-0" / "pids.json"
    pids: list[int] = wait_until(lambda: path.exists() and json.loads(path.read_text()), 60, "the trial's pids")
    assert len(pids) == 6 and all(alive(pid) for pid in pids), "the trial started its processes"
    return pids


def assert_all_gone(pids: list[int], within: float) -> None:
    wait_until(lambda: not any(alive(pid) for pid in pids), within, f"{[p for p in pids if alive(p)]} to end")


def policy_stop(cluster: Cluster, sweep_id: str, number: int) -> None:
    """What the evaluator does for a policy decision: mark the trial and raise its stop flag."""
    ledger = cluster.client.ledger
    assert ledger.transition(sweep_id, number, ["running"], {"stop_reason": "stopped", "stop_requested_at": time.time()})
    ledger.request_stop(sweep_id, [number], "stopped")


def test_a_completed_trial_leaves_no_process_behind(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    sweep = cluster.client.submit(spawner_spec(cluster, "complete"))
    pids = leftover_pids(cluster, sweep.id)
    sweep.wait(timeout=60, progress=False)
    [trial] = sweep.trials()
    assert trial["status"] == "completed", trial
    assert_all_gone(pids, within=2)  # killed before the outcome was recorded


@pytest.mark.parametrize("how", ["policy stop", "cancel", "forced cancel", "timeout"])
def test_a_stopped_canceled_or_timed_out_trial_leaves_no_process_behind(cluster: Cluster, how: str) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    mode = {"policy stop": "endless", "cancel": "endless", "forced cancel": "silent", "timeout": "timeout"}[how]
    limits = {"trial_timeout_minutes": 0.15} if how == "timeout" else {}  # 9 s: its processes start first
    sweep = cluster.client.submit(spawner_spec(cluster, mode, **limits))
    pids = leftover_pids(cluster, sweep.id)
    if how == "policy stop":
        policy_stop(cluster, sweep.id, 0)
    elif how != "timeout":
        sweep.cancel()  # "silent" never reports: it ends by the revoke after the 2 s grace (its pool process killed)
    sweep.wait(timeout=60, progress=False)
    [trial] = sweep.trials()
    expected = {"policy stop": "stopped", "cancel": "canceled", "forced cancel": "canceled", "timeout": "failed"}[how]
    assert trial["status"] == expected, trial
    assert_all_gone(pids, within=10)  # a killed pool process's orphans: the worker's main process sweeps each second


def test_trials_get_a_cpu_share_of_threads_and_keep_what_the_user_set(cluster: Cluster) -> None:
    cluster.scheduler()
    cores = len(os.sched_getaffinity(0))
    cluster.worker(2)
    expected = max(1, cores // 2)
    py = cluster.client.submit(cluster.spec(
        trial={"function": "tests.integration.hygiene_trials:thread_limits"}, limits={"max_total_runs": 1}))
    script = cluster.tmp / "env.py"
    script.write_text(
        "import os\n"
        "for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'NUMEXPR_NUM_THREADS',"
        " 'VECLIB_MAXIMUM_THREADS'):\n"
        "    print(f'sweepq: {name}={os.environ.get(name, -1)}')\n"
        "print('score=1')\n"
    )
    cmd = cluster.client.submit(cluster.spec(
        trial={"command": ["${interpreter}", str(script)], "env": {"MKL_NUM_THREADS": "5"}}, limits={"max_total_runs": 1}))
    for sweep in (py, cmd):
        assert sweep.wait(timeout=60, progress=False)["status"] == "completed", sweep.trials()
    [py_trial] = py.trials()
    finals = py_trial["final_metrics"]
    assert {finals[n] for n in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")} == {expected}
    assert finals["NUMEXPR_NUM_THREADS"] == finals["VECLIB_MAXIMUM_THREADS"] == expected
    assert finals["blas_threads"] == expected  # numpy's OpenBLAS, loaded by the trial, reads the limit
    [cmd_trial] = cmd.trials()
    seen = cmd_trial["final_metrics"]
    assert seen["MKL_NUM_THREADS"] == 5  # the trial's own env wins
    assert seen["OMP_NUM_THREADS"] == seen["OPENBLAS_NUM_THREADS"] == seen["NUMEXPR_NUM_THREADS"] == expected


def test_the_worker_option_and_a_users_worker_environment_set_the_threads(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.env["OMP_NUM_THREADS"] = "3"  # set by the user for this worker: kept
    # numpy loaded before the pool forks (as a site customization or plugin of the user's may do): its OpenBLAS read
    # its variables already, so each pool process limits it through threadpoolctl
    site = cluster.tmp / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import numpy\n")
    cluster.env["PYTHONPATH"] = f"{site}{os.pathsep}{cluster.env['PYTHONPATH']}"
    cluster.worker(2, None, "--threads-per-trial", "4")
    sweep = cluster.client.submit(cluster.spec(
        trial={"function": "tests.integration.hygiene_trials:thread_limits"}, limits={"max_total_runs": 1}))
    assert sweep.wait(timeout=60, progress=False)["status"] == "completed", sweep.trials()
    [trial] = sweep.trials()
    finals = trial["final_metrics"]
    assert finals["OMP_NUM_THREADS"] == 3
    assert finals["MKL_NUM_THREADS"] == finals["OPENBLAS_NUM_THREADS"] == finals["VECLIB_MAXIMUM_THREADS"] == 4
    assert finals["blas_threads"] == 4


def test_a_stale_group_is_killed_only_when_its_environment_names_the_trial() -> None:
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True, env={**os.environ, "SWEEPQ_TRIAL_ID": "s1/0"})
    try:  # the kernel fills /proc/<pid>/environ a moment after Popen returns (a stale group is long started)
        wait_until(lambda: Path(f"/proc/{proc.pid}/environ").read_bytes(), 5, "the environment to be readable")
        assert not kill_stale_group(proc.pid, "s1/1") and not kill_stale_group(proc.pid, "s2/0")
        assert proc.poll() is None  # a reused pid of some other process is left alone
        assert kill_stale_group(proc.pid, "s1/0")
        assert proc.wait(timeout=5) == -signal.SIGKILL
    finally:
        proc.kill()


def test_the_after_trial_check_sees_a_running_child_and_reaps_an_exited_one() -> None:
    code = """
import os, subprocess, sys, time
from workers.runners.reaper import may_have_children
alone = may_have_children()
child = subprocess.Popen(["sleep", "30"])
running = may_have_children()
child.kill()
while os.path.exists(f"/proc/{child.pid}/stat") and open(f"/proc/{child.pid}/stat").read().split()[2] != "Z":
    time.sleep(0.01)
exited = may_have_children()  # a zombie is reaped on the way, and then there is no child
print(alone, running, exited, os.path.exists(f"/proc/{child.pid}"))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "True", "False", "False"]


def test_infinities_and_nan_round_trip_through_the_ledger_and_the_stream(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(2)
    sweep = cluster.client.submit(cluster.spec(
        trial={"function": "tests.integration.hygiene_trials:non_finite"},
        parameters={"x": {"choice": [0.5]}, "kind": {"choice": ["inf", "ninf", "nan"]}},
        sampling={"method": "grid"}, limits={"max_total_runs": 3, "max_concurrent_runs": 2},
    ))
    script = cluster.tmp / "inf.py"
    script.write_text("print('score=-inf step=1')\nprint('score=inf step=2')\n")
    cmd = cluster.client.submit(cluster.spec(trial={"command": ["${interpreter}", str(script)]}, limits={"max_total_runs": 1}))
    for s in (sweep, cmd):
        assert s.wait(timeout=60, progress=False)["status"] == "completed", s.trials()
    by_kind = {t["params"]["kind"]: t for t in sweep.trials()}
    assert all(t["status"] == "completed" for t in by_kind.values()), by_kind
    assert metric_float(by_kind["inf"]["value"]) == math.inf and metric_float(by_kind["inf"]["best"]) == math.inf
    assert metric_float(by_kind["ninf"]["value"]) == -math.inf and metric_float(by_kind["ninf"]["best"]) == -math.inf
    nan = metric_float(by_kind["nan"]["value"])
    assert nan is not None and math.isnan(nan) and by_kind["nan"]["best"] is None  # NaN is never a best value
    best = sweep.best_trial()
    assert best is not None and best["params"]["kind"] == "inf"  # maximize: inf first, NaN never
    ledger = cluster.client.ledger
    streamed = {r.trial: metric_float(r.values["score"]) for r in read_reports(ledger.r, ledger.keys, sweep.id)}
    assert streamed[by_kind["inf"]["number"]] == math.inf and streamed[by_kind["ninf"]["number"]] == -math.inf
    assert math.isnan(streamed[by_kind["nan"]["number"]] or 0.0)
    [trial] = cmd.trials()
    assert trial["status"] == "completed" and metric_float(trial["best"]) == math.inf, trial
    curve = [metric_float(r.values["score"]) for r in read_reports(ledger.r, ledger.keys, cmd.id)]
    assert curve == [-math.inf, math.inf]  # a first -inf line, then inf, both with their sign


@pytest.mark.parametrize("sig", [signal.SIGQUIT, signal.SIGINT])
def test_a_worker_shut_down_under_a_trial_leaves_no_process_behind(cluster: Cluster, sig: int) -> None:
    cluster.scheduler()
    worker = cluster.worker(concurrency=1)
    sweep = cluster.client.submit(spawner_spec(cluster, "silent"))
    pids = leftover_pids(cluster, sweep.id)
    worker.send_signal(sig)  # a cold shutdown (SIGQUIT) or Ctrl-C (SIGINT): the pool process is terminated
    deadline = time.monotonic() + 30
    while sig == signal.SIGINT and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)  # Ctrl-C again, as a user would until it stops: a loaded machine may take the second press
        worker.send_signal(sig)  # as a repeat of the first (Celery then asks for one more)
    worker.wait(timeout=max(deadline - time.monotonic(), 1))
    assert_all_gone(pids, within=2)


def test_a_10_mb_output_line_is_logged_but_neither_parsed_nor_kept_whole_in_the_record(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    script = cluster.tmp / "long.py"
    script.write_text("print('score=0.25')\nprint('score=' + '9' * 10_000_000)\nprint('w' * 10_000_000)\nprint('score=0.5')\n")
    sweep = cluster.client.submit(cluster.spec(trial={"command": ["${interpreter}", str(script)]}, limits={"max_total_runs": 1}))
    assert sweep.wait(timeout=120, progress=False)["status"] == "completed", sweep.trials()
    [trial] = sweep.trials()
    assert trial["value"] == 0.5 and trial["reports"] == 2  # the over-long metric line was not a report
    assert len(trial["log_tail"]) == 4 and all(len(line) < 2100 for line in trial["log_tail"])
    assert trial["log_tail"][0] == "score=0.25" and trial["log_tail"][3] == "score=0.5"
    log = (cluster.tmp / "artifacts" / sweep.id / "trial-0" / "output.log").read_text()
    assert len(log) > 20_000_000  # the log keeps everything
