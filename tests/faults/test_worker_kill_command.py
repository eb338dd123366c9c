"""SIGKILL of a worker (its main and pool processes, not the trial's own process group) while a command trial runs.

The trial runs in its own session, so the kill never reaches it; its group's guard gets a parent-death signal and
kills the group. The retry then runs alone: it finds no process of the first attempt alive when it starts.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from tests.faults.conftest import Cluster, wait_until

SCRIPT = """
import json, os, subprocess, sys, time
out = os.environ["SWEEPQ_OUTPUT_DIR"]
path = os.path.join(out, "starts.jsonl")
earlier = [json.loads(line) for line in open(path)] if os.path.exists(path) else []

def alive(pid):
    try:
        stat = open(f"/proc/{pid}/stat", "rb").read()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z"

running = [pid for e in earlier for pid in (e["pid"], e["child"], e["pgid"]) if alive(pid)]
child = subprocess.Popen(["sleep", "300"])  # a process of the trial's own, in its group
with open(path, "a") as f:
    f.write(json.dumps({"pid": os.getpid(), "child": child.pid, "pgid": os.getpgid(0), "running": running}) + "\\n")
for step in range(1, 3 if earlier else 600):
    print(f"score={step} step={step}", flush=True)
    time.sleep(0.2)
child.kill()
"""


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z"


def children_of(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_bytes()
            except OSError:
                continue
            if int(stat[stat.rindex(b")") + 2 :].split()[1]) == pid:
                out.append(int(name))
    return out


def test_a_command_trial_dies_with_its_killed_worker_and_its_retry_runs_alone(cluster: Cluster) -> None:
    cluster.scheduler()
    worker = cluster.worker(concurrency=1)
    script = cluster.tmp / "train.py"
    script.write_text(SCRIPT)
    spec = cluster.spec(
        trial={"command": ["${interpreter}", str(script)]},
        limits={"max_total_runs": 1, "max_concurrent_runs": 1, "max_retries": 1},
    )
    sweep = cluster.client.submit(spec)
    starts = cluster.tmp / "artifacts" / sweep.id / "trial-0" / "starts.jsonl"
    first = wait_until(lambda: starts.exists() and starts.read_text().strip() and json.loads(starts.read_text()), 60,
                       "the first attempt to start")
    trial_pids = [first["pgid"], first["pid"], first["child"]]
    assert all(alive(pid) for pid in trial_pids)

    pool = children_of(worker.pid)
    assert pool and not set(pool) & set(trial_pids)  # the trial is a grandchild, in its own session
    for pid in (worker.pid, *pool):  # the worker dies; the trial's group is not signalled
        os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=10)
    wait_until(lambda: not any(alive(pid) for pid in trial_pids), 2, "the orphaned trial's processes to die")

    cluster.worker(concurrency=1)
    final = sweep.wait(timeout=90, progress=False)
    [trial] = sweep.trials()
    assert final["status"] == "completed" and trial["status"] == "completed" and trial["attempt"] == 2, trial
    entries = [json.loads(line) for line in starts.read_text().splitlines()]
    assert len(entries) == 2 and entries[1]["running"] == []  # nothing of attempt 1 ran beside attempt 2
    log = (starts.parent / "output.log").read_text()
    assert "attempt 1 of trial 0" in log and "attempt 2 of trial 0" in log
