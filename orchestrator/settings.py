"""sweepq's settings, from the environment (SWEEPQ_*) or a .env file; nothing connects at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where Redis is, how to reach it safely, and the knobs of the scheduler, workers and evaluator."""

    model_config = SettingsConfigDict(env_prefix="SWEEPQ_", env_file=".env", extra="ignore")

    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="broker, result backend, ledger")
    redis_password: SecretStr | None = Field(default=None, description="overrides any password in the URL")
    redis_username: str | None = None
    redis_ssl_cert_reqs: Literal["required", "optional", "none"] | None = Field(default=None, description="for rediss://")
    redis_ssl_ca_certs: str | None = None
    redis_socket_timeout: float = Field(
        default=10.0, gt=0, description="seconds a Redis reply may take (ledger, broker and backend clients)"
    )
    redis_connect_timeout: float = Field(default=5.0, gt=0, description="seconds to open a Redis connection")
    key_prefix: str = Field(default="sweepq", pattern=r"^[A-Za-z0-9_\-]+$")
    artifact_root: Path = Field(default=Path("artifacts"), description="per-trial output directories and logs")
    data_dir: Path = Field(
        default=Path(".sweepq"), description="local mode's persistent store (used when no Redis URL is configured)"
    )
    lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="a trial's lease: a dead worker's trial is reaped after it, and it bounds the Redis outage or "
        "partition a running trial rides out (a worker that cannot renew stops its trial before the lease ends)",
    )
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    scheduler_poll_seconds: float = Field(default=0.2, gt=0)
    stop_grace_seconds: float = Field(default=10.0, ge=0, description="cooperative stop before a forced one")
    stream_maxlen: int = Field(
        default=100_000, ge=1000,
        description="deprecated, ignored: metric streams have no cap; the evaluator compacts applied reports into "
        "per-trial curves and trims the stream only below them, so no report is dropped",
    )
    stream_tail_seconds: float = Field(
        default=60.0, ge=0,
        description="compacted reports stay in the metric stream this long too, so live readers (the dashboard) "
        "that poll more often read only the stream's tail",
    )
    keep_continue_decisions: bool = Field(
        default=False,
        description="the evaluator lists every continue decision too (one record per trial and interval); by default "
        "stop decisions are listed with their numbers and continue decisions are only counted",
    )
    log_tail_lines: int = Field(default=50, ge=1)
    scheduler_lock_seconds: float = Field(default=10.0, gt=0, description="a dead scheduler's lock frees after it")
    visibility_timeout_seconds: int = Field(
        default=3600, ge=60, description="kombu re-queues an unacknowledged trial message after it (leases cover less)"
    )
    task_events: bool = Field(
        default=False, description="Celery task events from the start (Flower also turns them on when it runs)"
    )
    worker_max_trials_per_child: int | None = Field(
        default=None, ge=1, description="recycle a pool process after N trials (GPU workers always use 1)"
    )
    threads_per_trial: int | None = Field(
        default=None, ge=1, description="OMP/MKL/OpenBLAS threads per trial (default: the worker's cores / concurrency)"
    )
