"""Command trials: an argv template expanded with the parameters and run without a shell.

The process runs in its own session (process group), so stopping it reaches its children too: SIGTERM to the
group, then SIGKILL after the grace period. The group's leader is a small guard (workers/runners/guard.py) that
kills the group when the pool process dies, so a trial never outlives its worker to run beside its retry. Its
stdout and stderr go to a per-trial log; stdout lines made of `name=value` pairs that name the sweep's metric (or
a declared extra) are reports. Lines over MAX_LINE characters are never parsed (one warning per trial), and each
line kept in the trial's log tail is cut to TAIL_LINE_CHARS.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, TextIO

from orchestrator.space import nest
from orchestrator.spec import MACRO_RE, CommandTrial
from workers.reporting import STEP_NAMES
from workers.runners import workdir
from workers.runners.base import Outcome, TrialContext

EXPLICIT = "sweepq:"
MAX_LINE = 64 * 1024  # characters; a longer stdout line is logged but never parsed as a report
TAIL_LINE_CHARS = 2000  # each log-tail line kept in the trial record is cut to this
GUARD = str(Path(__file__).with_name("guard.py"))
log_ = logging.getLogger("sweepq.worker")


def _any(name: str) -> bool:
    return True


NAME_RE = re.compile(r"[A-Za-z_][\w.\-/]*")  # matched against one name at a time (fullmatch): linear


class MacroError(ValueError):
    """A macro could not be expanded (an unset ${envvar:NAME})."""


def format_value(value: Any) -> str:
    """A parameter as a command-line value: strings as they are, everything else as Python prints it."""
    return value if isinstance(value, str) else str(value)


def expand(trial: CommandTrial, params: Mapping[str, Any], output_dir: Path, env: Mapping[str, str]) -> list[str]:
    """The argv for one trial: ${args} and ${args_no_hyphens} become one item per parameter, others substitute."""
    flat = dict(params)
    lists = {
        "${args}": [f"--{k}={format_value(v)}" for k, v in flat.items()],
        "${args_no_hyphens}": [f"{k}={format_value(v)}" for k, v in flat.items()],
        "${args_split}": [item for k, v in flat.items() for item in (f"--{k}", format_value(v))],  # HyperDrive's form
        "${args_no_boolean_flags}": [
            f"--{k}" if v is True else f"--{k}={format_value(v)}" for k, v in flat.items() if v is not False
        ],
    }
    json_file = output_dir / "params.json"
    scalars = {
        "program": trial.program or "",
        "interpreter": sys.executable,
        "env": "/usr/bin/env",
        "args_json": json.dumps(nest(flat)),
        "args_json_file": str(json_file),
        "output_dir": str(output_dir),
    }
    argv: list[str] = []
    for item in trial.command:
        if item in lists:
            argv.extend(lists[item])
            continue
        if "${args_json_file}" in item:
            json_file.write_text(json.dumps(nest(flat)))
        argv.append(MACRO_RE.sub(lambda m: _scalar(m.group(1), scalars, env), item))
    return argv


def _scalar(macro: str, scalars: Mapping[str, str], env: Mapping[str, str]) -> str:
    if macro.startswith("envvar:"):
        name = macro.removeprefix("envvar:")
        if name not in env:
            raise MacroError(f"${{envvar:{name}}}: the environment variable {name} is not set on this worker")
        return env[name]
    if macro in scalars:
        return scalars[macro]
    raise MacroError(f"${{{macro}}} expands to several arguments and must be a whole argv item")


def parse_metric_line(line: str, known: Callable[[str], bool]) -> tuple[dict[str, float], int | None] | None:
    """The metrics and step in a stdout line made only of name=value pairs naming a known metric, else None.

    A line that starts with `sweepq:` is an explicit report: every name on it is recorded.
    """
    text = line.strip()
    if text.startswith(workdir.JSON_PREFIX) and len(text) <= MAX_LINE:  # Run.get_context().log from HyperDrive scripts
        return workdir.json_metrics(text.removeprefix(workdir.JSON_PREFIX))
    if text.startswith(EXPLICIT):
        text = text.removeprefix(EXPLICIT).strip()
        known = _any
    if len(text) > MAX_LINE:
        return None
    metrics: dict[str, float] = {}
    step: int | None = None
    tokens = text.split()  # one pass per token, so the whole parse is linear in the line's length
    if not tokens:
        return None
    for token in tokens:
        name, eq, raw = token.partition("=")
        if not eq or not raw or NAME_RE.fullmatch(name) is None:
            return None
        try:
            number = float(raw)
        except ValueError:
            return None
        if name in STEP_NAMES and step is None and number.is_integer():
            step = int(number)
        elif known(name):
            metrics[name] = number
    return (metrics, step) if metrics else None


def trial_env(ctx: TrialContext) -> dict[str, str]:
    """The trial's environment: the worker's, the spec's env, and SWEEPQ_* describing the trial."""
    trial = ctx.spec.trial
    assert isinstance(trial, CommandTrial)
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # the worker's venv first
    if trial.wandb_shim:  # W&B scripts `import wandb` and get sweepq's drop-in
        shim = str(Path(__file__).resolve().parents[1] / "wandb_shim")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (shim, env.get("PYTHONPATH", "")) if p)
    env.update(trial.env)
    env.update(
        SWEEPQ_SWEEP_ID=ctx.sweep_id,
        SWEEPQ_TRIAL_ID=f"{ctx.sweep_id}/{ctx.number}",
        SWEEPQ_TRIAL_NUMBER=str(ctx.number),
        SWEEPQ_PARAMS=json.dumps(nest(dict(ctx.params))),
        SWEEPQ_OUTPUT_DIR=str(ctx.output_dir),
        **({"SWEEPQ_RESUME_FROM": ctx.resume_from} if ctx.resume_from else {}),
        PYTHONUNBUFFERED="1",
    )
    return env


def kill_group(pgid: int, grace: float, proc: subprocess.Popen[str] | None = None) -> None:
    """SIGTERM the whole process group, then SIGKILL whatever is left after `grace` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None and not _group_alive(pgid):
            return
        if proc is None and not _group_alive(pgid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Watch:
    """Ends the process on a stop request or the trial timeout, from a thread beside the output reader."""

    def __init__(self, ctx: TrialContext, proc: subprocess.Popen[str]) -> None:
        self.ctx, self.proc = ctx, proc
        self.timed_out = False
        minutes = ctx.spec.limits.trial_timeout_minutes
        self.deadline = None if minutes is None else time.monotonic() + minutes * 60
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.proc.poll() is None:
            timeout = None if self.deadline is None else max(self.deadline - time.monotonic(), 0)
            if self.ctx.stop_event.wait(timeout=min(timeout, 0.5) if timeout is not None else 0.5):
                kill_group(self.proc.pid, self.ctx.stop_grace_seconds, self.proc)
                return
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self.timed_out = True
                kill_group(self.proc.pid, self.ctx.stop_grace_seconds, self.proc)
                return


def _lines(stdout: IO[str]) -> Iterator[tuple[str, bool]]:
    """The output in pieces of at most MAX_LINE characters, each with whether it is a whole line that fits."""
    partial = False
    while True:
        piece = stdout.readline(MAX_LINE + 1)
        if not piece:
            return
        ends = piece.endswith("\n")
        yield piece, ends and not partial and len(piece) <= MAX_LINE + 1
        partial = not ends


def _pump(ctx: TrialContext, stdout: IO[str], log: TextIO, tail: collections.deque[str]) -> None:
    """Copy the output to the log and tail, and send each metric line as a report (over-long lines unparsed)."""
    warned = False
    cont = False  # the previous piece was the start of an over-long line
    for piece, whole in _lines(stdout):
        log.write(piece)
        if not cont:
            tail.append(_cut(piece.rstrip("\n")))
        cont = not piece.endswith("\n")
        if not whole:
            if not warned:
                warned = True
                log_.warning("%s #%s: an output line over %d characters was not parsed", ctx.sweep_id, ctx.number, MAX_LINE)
            continue
        parsed = parse_metric_line(piece, ctx.reporter.known)
        if parsed is None or ctx.stop_event.is_set():
            continue
        metrics, step = parsed
        stop = ctx.reporter.send(metrics, step)
        if stop is not None:
            ctx.request_stop(stop)
    log.flush()


def _cut(line: str) -> str:
    """A log-tail line cut to TAIL_LINE_CHARS, saying so."""
    return line if len(line) <= TAIL_LINE_CHARS else f"{line[:TAIL_LINE_CHARS]}... [line cut, over {TAIL_LINE_CHARS} chars]"


def _startable(argv0: str, env: Mapping[str, str], cwd: str | None) -> str | None:
    """Why argv[0] cannot be started (checked here, since the guard starts it), or None."""
    if os.sep in argv0:
        path = Path(cwd or ".") / argv0
        return None if os.access(path, os.X_OK) and path.is_file() else "no such executable file"
    return None if shutil.which(argv0, path=env.get("PATH")) else "not found on PATH"


def run_command(ctx: TrialContext) -> Outcome:
    """Run the command to its end, a stop request or its timeout; the exit code decides completed or failed."""
    trial = ctx.spec.trial
    assert isinstance(trial, CommandTrial)
    env = trial_env(ctx)
    try:
        argv = expand(trial, ctx.params, ctx.output_dir, env)
    except MacroError as exc:
        return Outcome(status="failed", error=str(exc))
    cwd = str(workdir.prepare(ctx.output_dir, trial.cwd)) if trial.per_trial_workdir else trial.cwd
    if ctx.resume_from:  # as HyperDrive hands a resumed child run its checkpoint (its earlier ./outputs)
        argv += ["--resume-from", workdir.checkpoint(ctx.resume_from) if trial.per_trial_workdir else ctx.resume_from]
    problem = _startable(argv[0], env, cwd)
    if problem is not None:
        return Outcome(status="failed", error=f"cannot start {argv[0]!r}: {problem}")
    tail: collections.deque[str] = collections.deque(maxlen=ctx.log_tail_lines)
    log_path = ctx.output_dir / "output.log"
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"--- sweepq: attempt {ctx.attempt} of trial {ctx.number}, worker pid {os.getpid()}\n")
        log.flush()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", GUARD, str(os.getpid()), *argv], cwd=cwd, env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                errors="replace", start_new_session=True, bufsize=1,
            )
        except OSError as exc:
            return Outcome(status="failed", error=f"cannot start {argv[0]!r}: {exc}")
        ctx.record({"pgid": proc.pid, "argv": argv, "log": str(log_path)})
        watch = _Watch(ctx, proc)
        assert proc.stdout is not None
        _pump(ctx, proc.stdout, log, tail)
        code = proc.wait()
        kill_group(proc.pid, 0)  # children left behind by the trial die with it
        watch.thread.join(timeout=1)
    workdir.record_logged(ctx)
    return _outcome(ctx, code, watch.timed_out, list(tail))


def _outcome(ctx: TrialContext, code: int, timed_out: bool, tail: list[str]) -> Outcome:
    last = ctx.reporter.last
    if ctx.stop_reason is not None:
        return Outcome(status=ctx.stop_reason, value=last, exit_code=code, log_tail=tail)
    if timed_out:
        minutes = ctx.spec.limits.trial_timeout_minutes
        error = f"timed out after {minutes} minutes"
        return Outcome(status="failed", value=last, exit_code=code, log_tail=tail, error=error)
    if code != 0:
        error = f"exit code {code}" + ("\n" + "\n".join(tail[-10:]) if tail else "")
        return Outcome(status="failed", value=last, exit_code=code, log_tail=tail, error=error)
    return Outcome(status="completed", value=last, exit_code=code, log_tail=tail)
