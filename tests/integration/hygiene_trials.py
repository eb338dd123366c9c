"""Trials that leave processes behind or read their thread limits; imported by real worker processes."""

from __future__ import annotations

import json
import math
import multiprocessing
import multiprocessing.pool
import multiprocessing.queues
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from workers import report

_LEAKED: list[multiprocessing.pool.Pool] = []  # a pool the trial never closes, as a careless script would


def _orphan(q: multiprocessing.queues.Queue[int]) -> None:
    """Starts a sleep and exits at once, so the sleep is orphaned (reparented away from its parent)."""
    q.put(subprocess.Popen(["sleep", "300"]).pid)


def _spawn_all() -> list[int]:
    """Children and grandchildren of every kind a trial may leave; their pids are written to the output dir."""
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(2)
    _LEAKED.append(pool)
    sleeper = subprocess.Popen(["sleep", "300"])
    shell = subprocess.Popen(["sh", "-c", "sleep 300 & echo $!; wait"], stdout=subprocess.PIPE, text=True)
    assert shell.stdout is not None
    grandchild = int(shell.stdout.readline())
    q: multiprocessing.queues.Queue[int] = ctx.Queue()
    orphaner = ctx.Process(target=_orphan, args=(q,))
    orphaner.start()
    orphan = q.get(timeout=30)
    orphaner.join()
    pids = [p.pid for p in pool._pool] + [sleeper.pid, shell.pid, grandchild, orphan]  # type: ignore[attr-defined]
    Path(os.environ["SWEEPQ_OUTPUT_DIR"], "pids.json").write_text(json.dumps(pids))
    return pids


def spawner(x: float, mode: str = "complete") -> float:
    """Leaves processes behind, then completes, reports until stopped, sleeps silently, or runs into its timeout."""
    _spawn_all()
    if mode == "endless":
        step = 0
        while True:
            step += 1
            report(score=x, step=step)
            time.sleep(0.1)
    if mode in ("silent", "timeout"):
        time.sleep(300)
    time.sleep(2)  # "complete": the test sees its processes alive before the trial ends (a loaded CI raced this)
    return x


def thread_limits(x: float) -> dict[str, Any]:
    """The thread variables this trial sees and the BLAS pool's size, as final metrics (numbers only)."""
    from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

    out: dict[str, Any] = {"score": x}
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
        out[name] = float(os.environ.get(name, "-1"))
    blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    out["blas_threads"] = float(min(blas)) if blas else -1.0
    return out


def non_finite(x: float, kind: str) -> float:
    """Reports and returns a non-finite metric: inf, -inf (as "ninf") or nan."""
    value = {"inf": math.inf, "ninf": -math.inf, "nan": math.nan}[kind]
    report(score=value, step=1)
    return value
