"""The long-running `sweepq` commands: scheduler, worker, flower, and `run` (local mode)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from pathlib import Path

import typer
from rich.markup import escape

from orchestrator.loading import SpecError, load_spec
from orchestrator.local import LocalCluster, LocalError, redacted
from orchestrator.progress import trials_table, watch
from orchestrator.settings import Settings


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def scheduler(
    loglevel: str = typer.Option("INFO", "--loglevel", help="DEBUG, INFO, WARNING or ERROR."),
    evaluator: bool = typer.Option(True, "--evaluator/--no-evaluator", help="Also run the policy evaluator."),
) -> None:
    """Run the scheduler (and the policy evaluator): turns sweeps into trial tasks until SIGTERM or Ctrl-C."""
    from orchestrator.cli import settings
    from orchestrator.evaluator import Evaluator
    from orchestrator.scheduler import Scheduler

    _logging(loglevel)
    stop = _stop_event()
    config = settings()
    warn_without_persistence(config)
    warn_on_small_records(config)
    thread = None
    if evaluator:
        thread = threading.Thread(target=Evaluator(config).run, args=(stop,), name="sweepq-evaluator", daemon=True)
        thread.start()
    Scheduler(config).run(stop)
    if thread is not None:
        thread.join(timeout=5)


def warn_without_persistence(config: Settings) -> bool:
    """Log one warning when the Redis has neither AOF nor RDB snapshots: a restart would lose every sweep."""
    import redis

    from orchestrator.store.connection import redis_client

    try:
        client = redis_client(config)
        aof = client.config_get("appendonly").get("appendonly", "no")
        save = str(client.config_get("save").get("save") or "")
    except (redis.RedisError, OSError):
        return False  # unreachable or CONFIG denied by an ACL: nothing known, nothing to say
    if aof == "yes" or save.strip():
        return False
    logging.getLogger("sweepq.scheduler").warning(
        "Redis at %s runs without persistence (appendonly no, no save points): a restart loses every sweep; "
        "turn on AOF (appendonly yes) to keep them", config.redis_url.rpartition("@")[2])
    return True


def evaluator(loglevel: str = typer.Option("INFO", "--loglevel")) -> None:
    """Run the policy evaluator alone (`sweepq scheduler` runs one too unless --no-evaluator)."""
    from orchestrator.cli import settings
    from orchestrator.evaluator import Evaluator

    _logging(loglevel)
    Evaluator(settings()).run(_stop_event())


def gpu_slot_list(gpus: str, per_trial: int) -> list[str]:
    """GPU ids grouped into per-trial slots: "0,1,2,3" with 2 per trial gives ["0,1", "2,3"]; "all" asks nvidia-smi."""
    if gpus.strip() == "all":
        out = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True)
        ids = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    else:
        ids = [g.strip() for g in gpus.split(",") if g.strip()]
    if not ids or len(ids) % per_trial:
        raise typer.BadParameter(f"{len(ids)} GPU(s) cannot be split into slots of {per_trial}", param_hint="--gpus")
    return [",".join(ids[i : i + per_trial]) for i in range(0, len(ids), per_trial)]


def worker(
    queues: str = typer.Option("cpu", "--queues", "-Q", help="Comma-separated queues to take trials from."),
    concurrency: int | None = typer.Option(None, "--concurrency", "-c", min=1, help="Trials at once (default: CPUs)."),
    gpus: str | None = typer.Option(None, "--gpus", help="GPU ids (0,1,...) or 'all': one trial per GPU slot."),
    gpus_per_trial: int = typer.Option(1, "--gpus-per-trial", min=1, help="GPUs in each slot."),
    name: str | None = typer.Option(None, "--name", "-n", help="Worker node name (default celery@host)."),
    loglevel: str = typer.Option("INFO", "--loglevel"),
    threads_per_trial: int | None = typer.Option(
        None, "--threads-per-trial", min=1, help="OMP/MKL/OpenBLAS threads per trial (default: cores / concurrency)."
    ),
) -> None:
    """Run a worker: a Celery prefork worker that runs trials from the given queues."""
    from orchestrator.cli import settings
    from workers.app import GPU_ENV, create_app

    if threads_per_trial is not None:
        os.environ["SWEEPQ_THREADS_PER_TRIAL"] = str(threads_per_trial)  # read by the settings the worker builds

    argv = ["worker", "-Q", queues, "-P", "prefork", f"--loglevel={loglevel}", "--without-mingle", "--without-gossip"]
    if gpus:
        slots = gpu_slot_list(gpus, gpus_per_trial)
        if concurrency is not None and concurrency != len(slots):
            raise typer.BadParameter(f"a GPU worker runs one trial per slot ({len(slots)})", param_hint="--concurrency")
        os.environ[GPU_ENV] = ";".join(slots)
        concurrency = len(slots)
        argv += ["--max-tasks-per-child", "1"]  # a fresh process per trial frees its GPU memory
    argv += ["-c", str(concurrency or os.cpu_count() or 1)]
    if name:
        argv += ["-n", name]
    create_app(settings()).worker_main(argv)


def flower(
    port: int = typer.Option(5555, "--port"),
    address: str = typer.Option("127.0.0.1", "--address", help="Interface to listen on."),
    basic_auth: str | None = typer.Option(None, "--basic-auth", help="user:password (several separated by ',')."),
) -> None:
    """Start Flower against the configured broker: workers, trial tasks and their arguments, revoke buttons."""
    from orchestrator.cli import err_console, settings
    from orchestrator.dashboard.auth import is_loopback
    from workers.app import create_app

    if not (basic_auth or os.environ.get("FLOWER_BASIC_AUTH")) and not is_loopback(address):
        err_console.print(f"[bold red]refusing to serve Flower on {escape(address)} without authentication[/]: "
                          "pass --basic-auth user:password (or FLOWER_BASIC_AUTH), or listen on 127.0.0.1")
        raise typer.Exit(2)
    argv = ["flower", f"--port={port}", f"--address={address}"]
    if basic_auth:
        argv.append(f"--basic-auth={basic_auth}")
    create_app(settings()).start(argv)


SPEC_ARG = typer.Argument(..., help="Path to a sweep spec (YAML or JSON).", show_default=False)
DATA_DIR = typer.Option(None, "--data-dir", help="The local store's folder (default $SWEEPQ_DATA_DIR, else ./.sweepq).")


def run(
    spec: Path = SPEC_ARG,
    workers: int = typer.Option(2, "--workers", "-w", min=1, help="Worker processes (trials at once)."),
    redis_url: str | None = typer.Option(None, "--redis", help="Use this Redis instead of a private one."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    dialect: str = typer.Option("auto", "--dialect", help="native, wandb or auto (by its keys)."),
    data_dir: Path | None = DATA_DIR,
) -> None:
    """Run a sweep on this machine: the local store (a Redis kept in ./.sweepq), the scheduler and N workers.

    The sweep stays in the store: `sweepq status`, `best`, `report` and `dashboard` open it afterwards.
    """
    from orchestrator.cli import EXPLICIT_REDIS, console, err_console, print_outcome, report_spec_error, settings
    from orchestrator.client import SweepClient

    try:
        parsed = load_spec(spec, dialect)
    except SpecError as exc:
        report_spec_error(exc)
        raise typer.Exit(2) from None
    url = redis_url or (EXPLICIT_REDIS[-1] if EXPLICIT_REDIS else None)
    config = settings()
    try:
        with LocalCluster([parsed.resources.effective_queue], workers, url, data_dir=data_dir or config.data_dir) as cluster:
            assert cluster.redis_url is not None
            own = config if url else config.model_copy(update={"redis_password": None, "redis_username": None})
            sweep = SweepClient(cluster.redis_url, settings=own).submit(parsed)
            where = redacted(cluster.redis_url) + (f" (local store {data_dir or config.data_dir})" if url is None else "")
            err_console.print(f"sweep [bold]{escape(sweep.id)}[/] on {escape(where)} with {workers} worker(s)")
            try:
                final = watch(sweep, timeout=None, progress=progress, poll=0.25, check=cluster.check)
            except KeyboardInterrupt:
                err_console.print("interrupted: canceling the sweep and stopping the local processes")
                sweep.cancel()
                raise typer.Exit(130) from None
            rows, best = sweep.trials(), sweep.best_trial()
    except LocalError as exc:
        err_console.print(f"[bold red]local mode failed[/]: {escape(str(exc))}")
        raise typer.Exit(1) from None
    console.print(trials_table(rows, parsed.metric.name if parsed.metric else None))
    code = print_outcome(sweep.id, final, parsed.metric, best)  # non-zero when the sweep failed
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    for command in (scheduler, evaluator, worker, flower, run):
        app.command()(command)


COMPACT_VALUE_BYTES = 1024  # hash-max-listpack-value the embedded Redis and compose.yaml use


def warn_on_small_records(config: Settings) -> bool:
    """Log one hint when Redis keeps hashes with a value over 64 bytes (a trial's output_dir or params) as hash tables:
    a finished trial then takes about 2.9 kB instead of 1.7 kB (README "Scale")."""
    import redis

    from orchestrator.store.connection import redis_client

    try:
        client = redis_client(config)
        found = client.config_get("hash-max-*-value")
    except (redis.RedisError, OSError):
        return False
    limit = max((int(str(v)) for v in found.values() if str(v).isdigit()), default=COMPACT_VALUE_BYTES)
    if limit >= 512:
        return False
    logging.getLogger("sweepq.scheduler").warning(
        "Redis at %s keeps hashes with values over %d bytes as hash tables: trial records take about 70%% more memory; "
        "set hash-max-listpack-value %d (redis.conf or CONFIG SET) for large sweeps",
        config.redis_url.rpartition("@")[2], limit, COMPACT_VALUE_BYTES)
    return True
