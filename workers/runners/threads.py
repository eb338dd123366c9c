"""Each trial's CPU share: the thread pools of BLAS/OpenMP libraries sized to the worker's cores / concurrency.

Without it every concurrent trial starts one BLAS thread per core, and two scikit-learn trials run several times
slower than one. The limit goes into the environment (OMP_NUM_THREADS and friends; torch reads OMP_NUM_THREADS)
of the worker's main process before the pool forks, so pool processes, the libraries they load later and command
trials all inherit it; a variable the user already set is never touched. A library loaded before the fork (the
worker itself loads no numpy, but a user's site customization or plugin may) read its variables at load, so each
pool process also applies the limit through threadpoolctl.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

log = logging.getLogger("sweepq.worker")

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
OWNED_ENV = "SWEEPQ_WORKER_THREAD_VARS"  # the variables sweepq set (not the user), for the pool processes
LIBRARY_VARS = {"openblas": "OPENBLAS_NUM_THREADS", "mkl": "MKL_NUM_THREADS", "openmp": "OMP_NUM_THREADS"}


def cores() -> int:
    """CPUs this process may run on (its affinity, which containers and taskset narrow), at least 1."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def threads_per_trial(concurrency: int, override: int | None = None) -> int:
    """The threads each trial gets: the override when given, else max(1, cores // concurrency)."""
    if override is not None:
        return max(override, 1)
    return max(1, cores() // max(concurrency, 1))


def limit_env(env: Mapping[str, str], threads: int) -> dict[str, str]:
    """The thread variables to add to `env`: every one of THREAD_VARS the environment does not set already."""
    return {name: str(threads) for name in THREAD_VARS if not env.get(name)}


def set_worker_limits(concurrency: int, override: int | None = None) -> int:
    """In the worker's main process, before the pool forks: export the limits the user did not set."""
    threads = threads_per_trial(concurrency, override)
    added = limit_env(os.environ, threads)
    os.environ.update(added)
    os.environ[OWNED_ENV] = ",".join(added)
    log.info("trials get %d thread(s) each (%s)", threads, ", ".join(added) or "all set by the user")
    return threads


def apply_in_process() -> None:
    """In a pool process: limit the thread pools of libraries already loaded, each by the variable sweepq set."""
    owned = {name for name in os.environ.get(OWNED_ENV, "").split(",") if name}
    wanted = {api: int(os.environ[var]) for api, var in LIBRARY_VARS.items() if var in owned}
    if not wanted:
        return
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:  # not installed: libraries loaded from now on still read the environment
        return
    controller = ThreadpoolController()
    for api, threads in wanted.items():
        selected = controller.select(internal_api=api)
        if selected.lib_controllers:
            selected.limit(limits=threads)
