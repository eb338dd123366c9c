"""A trial's leftover processes: found under /proc and killed, so nothing a trial started outlives it.

Why this mechanism: a trial's processes cannot be tracked by a process group alone (multiprocessing children
share the pool process's group, and a daemon may call setsid), and once their parent exits the kernel reparents
orphans to init, out of reach. So each pool process and the worker's main process mark themselves child
subreapers (prctl PR_SET_CHILD_SUBREAPER): every orphan of a trial is reparented to the nearest of them instead
of init, which keeps the trial's whole tree under the pool process (or, when the pool process itself died, under
the main process). After each trial the pool process kills every descendant it has; the main process kills
children that are not pool processes (left by a pool process killed by a revoke, a timeout or a crash), and all
of its descendants at shutdown. Linux only; elsewhere these are no-ops.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from collections.abc import Iterable

log = logging.getLogger("sweepq.worker")

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


_armed = False  # this process is a worker process that owns all of its children (not a user's own process)


def become_subreaper() -> bool:
    """Make orphaned descendants of this process reparent to it rather than to init; False where unsupported.

    It also arms kill_descendants: only a worker process, whose every child is a trial's, may kill them all (an
    agent running trials inside a user's notebook must not).
    """
    global _armed
    _armed = True
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def _parents() -> dict[int, int]:
    """Every visible process's parent pid, read from /proc/<pid>/stat (the name may hold spaces or parens)."""
    out: dict[int, int] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            out[int(name)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return out


def has_children(pid: int) -> bool:
    """Whether the process has any child: a look at /proc/<pid>/task/*/children before any full scan."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        for tid in tasks:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                if f.read().strip():
                    return True
    except OSError:
        return True  # no children files (an old kernel): let the full scan decide
    return False


def may_have_children() -> bool:
    """Whether this process has a child, by one waitpid, the cheapest check after every trial (zombies met on
    the way are reaped); /proc's view where waitpid cannot tell."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] != 0:
            pass  # reaped an exited child: look again
        return True  # a child that is still running
    except ChildProcessError:
        return False
    except OSError:
        return has_children(os.getpid())


def descendants(root: int, exclude: Iterable[int] = ()) -> list[int]:
    """Every live descendant of `root` (not `root` itself), skipping the subtrees of the `exclude` pids."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    skip = set(exclude)
    out: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in skip and child != root:
                out.append(child)
                todo.append(child)
    return out


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z"
    except (OSError, ValueError):
        return False


def _reap(pids: Iterable[int]) -> None:
    """Collect the exit status of those that are our children, so no zombie stays behind."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def kill_tree(pids: list[int], grace: float = 1.0) -> list[int]:
    """SIGTERM the processes, SIGKILL those still alive after `grace` seconds, reap our own; returns the pids."""
    if not pids:
        return pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pids)
        if not any(_alive(pid) for pid in pids):
            break
        time.sleep(0.02)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    for _ in range(50):  # a SIGKILLed process is gone within milliseconds; reap what became our zombies
        _reap(pids)
        if not any(_alive(pid) for pid in pids):
            break
        time.sleep(0.01)
    return pids


def kill_descendants(grace: float = 1.0, exclude: Iterable[int] = ()) -> list[int]:
    """Kill every process this one started (directly or not) and still has, but for `exclude`'s subtrees.

    Does nothing unless become_subreaper armed it (a worker process). Repeats until none is found, so a process
    forked while the first round was being killed dies too.
    """
    killed: list[int] = []
    for round_ in range(5 if _armed else 0):
        if not may_have_children():
            break
        if round_ == 0:
            _terminate_process_pools()
        found = descendants(os.getpid(), exclude)
        if not found:
            break
        killed += kill_tree(found, grace)
    if killed:
        log.info("killed %d process(es) left behind by a trial: %s", len(set(killed)), sorted(set(killed)))
    return killed


def _terminate_process_pools() -> None:
    """Terminate multiprocessing pools a trial left open: their handler thread would replace killed workers."""
    module = sys.modules.get("multiprocessing.pool")
    if module is None:
        return
    import gc

    for obj in gc.get_objects():
        if isinstance(obj, module.Pool) and obj._state == module.RUN:
            try:
                obj.terminate()
            except Exception as exc:  # a pool in a state terminate() cannot handle: its workers are killed anyway
                log.warning("could not terminate a multiprocessing pool a trial left open: %s", exc)


class OrphanSweeper:
    """In the worker's main process: kills the trees of children that are not pool processes.

    A pool process killed by a forced revoke or a crash leaves its trial's processes to the main process (a
    subreaper). A child must be seen twice in a row before it is killed, so a pool process that is being started
    (forked but not yet listed by the pool) is never taken for an orphan.
    """

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def sweep(self, pool_pids: Iterable[int]) -> list[int]:
        pool = set(pool_pids)
        me = os.getpid()
        parents = _parents()
        orphans = {pid for pid, ppid in parents.items() if ppid == me and pid not in pool and _alive(pid)}
        ready, self.seen = orphans & self.seen, orphans - self.seen
        if not ready:
            _reap(pid for pid, ppid in parents.items() if ppid == me and pid not in pool)
            return []
        pids = [p for root in ready for p in (root, *descendants(root))]
        log.warning("killing %d process(es) left by a dead pool process: %s", len(pids), sorted(pids))
        return kill_tree(pids, grace=1.0)


def kill_stale_group(pgid: int, trial_id: str) -> bool:
    """Kill a previous attempt's process group still alive on this host (its guard's environment names the trial).

    The environment check keeps a reused pid that now belongs to some other process safe.
    """
    try:
        with open(f"/proc/{pgid}/environ", "rb") as f:
            environ = f.read().split(b"\0")
    except OSError:
        return False
    if f"SWEEPQ_TRIAL_ID={trial_id}".encode() not in environ:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
        log.warning("killed process group %s of an earlier attempt of %s still running here", pgid, trial_id)
        return True
    return False
