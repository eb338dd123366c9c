"""The leader of a command trial's process group: ties the whole group to the pool process that started it.

A command trial runs in its own session (so a stop reaches all of its processes), which also means SIGKILL of its
worker never reaches it: it would run on beside its own retry. This guard, run as
`python -I -S guard.py <parent pid> <argv...>`, asks the kernel for a parent-death signal (PR_SET_PDEATHSIG) and
kills its whole group when it arrives; it checks its parent right after, so a parent that died before the call
is caught too. The trial command runs as the guard's child in the same group. The guard is a separate process
rather than a `preexec_fn` because a pre-exec hook is unsafe in a threaded process (the pool process runs a
heartbeat thread), and the death signal alone would reach only the first process, not the trial's children.

Standalone on purpose (standard library only, run with -I -S): it starts in a few milliseconds.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from types import FrameType

PR_SET_PDEATHSIG = 1
DEATH_SIGNAL = signal.SIGRTMIN + 5  # a signal a trial has no reason to send its group


def _kill_group(signum: int = 0, frame: FrameType | None = None) -> None:
    os.killpg(0, signal.SIGKILL)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """A stop's SIGTERM/SIGINT reaches the whole group; the guard waits for the command to end and reports it."""


def main(argv: list[str]) -> int:
    parent = int(argv[0])
    signal.signal(DEATH_SIGNAL, _kill_group)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(int(DEATH_SIGNAL)), 0, 0, 0)
    if os.getppid() != parent:  # the worker died before the death signal was armed
        _kill_group()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _ignore)  # handlers (unlike ignored signals) are reset to the default by exec
    try:
        proc = subprocess.Popen(argv[1:])
    except OSError as exc:
        print(f"sweepq: cannot start {argv[1]!r}: {exc}", file=sys.stderr, flush=True)
        return 127
    while True:
        try:
            code = proc.wait()
            break
        except InterruptedError:  # pragma: no cover - wait retries on EINTR since PEP 475
            continue
    if code < 0:  # the command died of a signal: die of the same one, so the worker sees what it would have
        with contextlib.suppress(OSError, ValueError):  # SIGKILL and SIGSTOP have no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code  # a signal that did not end the guard (stop, ignored): the shell's convention
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
