"""The Celery app, built by a factory from settings: JSON only, prefork, no prefetch, trial task registered."""

from __future__ import annotations

import atexit
import os
from typing import Any

from celery import Celery, bootsteps, signals

from orchestrator.settings import Settings
from orchestrator.store.connection import effective_url, ssl_options

TRIAL_TASK = "sweepq.trial"
GPU_ENV = "SWEEPQ_WORKER_GPU_SLOTS"  # set by `sweepq worker --gpus`: slots separated by ';', GPUs in a slot by ','


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app for sweepq's broker; creating it connects to nothing."""
    settings = settings or Settings()
    url = effective_url(settings)
    transport_timeouts = {  # explicit, like the ledger's client: a dead peer never blocks a worker forever
        "socket_timeout": settings.redis_socket_timeout,
        "socket_connect_timeout": settings.redis_connect_timeout,
        "socket_keepalive": True,
    }
    app = Celery("sweepq", set_as_current=False)
    app.conf.update(
        broker_url=url,
        broker_transport="workers.transport:Transport",  # kombu's redis transport, minus a client per publish
        result_backend=url,
        task_serializer="json",
        result_serializer="json",
        event_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,  # a message is acknowledged when the trial ends; leases cover lost workers sooner
        worker_prefetch_multiplier=1,
        worker_disable_prefetch=True,  # fetch a trial only when a pool slot is free (Celery >= 5.6, Redis)
        # Task events cost about a third of a trial's overhead, so they are on demand: `sweepq flower` (Flower's
        # enable_events) switches them on in running workers; SWEEPQ_TASK_EVENTS=true keeps them always on and
        # also sends task-sent events, so that Flower lists queued trials too.
        worker_send_task_events=settings.task_events,
        task_send_sent_event=settings.task_events,
        task_default_queue="cpu",
        broker_connection_retry_on_startup=True,
        # A Redis outage: workers reconnect for as long as it lasts, and running trials keep running (their
        # heartbeat and report() ride it out; cancelling them would fail every trial in flight).
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_seconds, **transport_timeouts},
        result_backend_transport_options={
            "visibility_timeout": settings.visibility_timeout_seconds, **transport_timeouts
        },
        redis_socket_timeout=settings.redis_socket_timeout,
        redis_socket_connect_timeout=settings.redis_connect_timeout,
        redis_socket_keepalive=True,
        result_expires=3600,
        worker_max_tasks_per_child=settings.worker_max_trials_per_child,
        worker_hijack_root_logger=False,
    )
    tls = ssl_options(settings)
    if tls:
        app.conf.broker_use_ssl = tls
        app.conf.redis_backend_use_ssl = tls
    from workers.tasks import register

    register(app, settings)
    app.steps["consumer"].add(_revoke_watch(settings))
    _hygiene(app, settings)
    return app


def _hygiene(app: Celery, settings: Settings) -> None:
    """The worker's main process, before the pool forks: trials' thread limits, and orphans reparented to it.

    See workers/runners/threads.py and workers/runners/reaper.py for why each mechanism was chosen.
    """

    @signals.worker_init.connect(weak=False, dispatch_uid=f"sweepq-hygiene-{id(app)}")  # type: ignore[untyped-decorator]
    def _main_process(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is not app:
            return
        from workers.runners import reaper, threads

        reaper.become_subreaper()
        atexit.register(reaper.kill_descendants, 1.0)  # a cold shutdown leaves no trial process behind
        threads.set_worker_limits(int(getattr(sender, "concurrency", 1) or 1), settings.threads_per_trial)

    @signals.worker_shutdown.connect(weak=False, dispatch_uid=f"sweepq-shutdown-{id(app)}")  # type: ignore[untyped-decorator]
    def _shutdown(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is app:
            from workers.runners.reaper import kill_descendants

            kill_descendants(grace=1.0)


def _revoke_watch(settings: Settings) -> type[bootsteps.StartStopStep]:
    """A consumer bootstep that, every second, turns a plain revoke of a running trial into a stop request and kills
    the processes a killed pool process left behind."""
    from workers.tasks import cancel_revoked_running

    class RevokeWatch(bootsteps.StartStopStep):  # type: ignore[misc]
        requires = ("celery.worker.consumer.tasks:Tasks",)

        def __init__(self, c: Any, **kwargs: Any) -> None:
            super().__init__(c, **kwargs)
            self.handled: set[str] = set()
            self.tref: Any = None

        def start(self, c: Any) -> None:
            from workers.runners.reaper import OrphanSweeper

            sweeper = OrphanSweeper()

            def tick() -> None:
                pool = _pool_pids(c)
                if pool is not None:
                    sweeper.sweep(pool)  # trial processes of a pool process that was killed
                cancel_revoked_running(settings, self.handled)

            self.tref = c.timer.call_repeatedly(1.0, tick)

        def stop(self, c: Any) -> None:
            if self.tref is not None:
                c.timer.cancel(self.tref)
                self.tref = None

    return RevokeWatch


def _pool_pids(consumer: Any) -> list[int] | None:
    """The pids of the prefork pool's processes; None when they cannot be listed (the orphan sweep then skips)."""
    try:
        return [int(p.pid) for p in consumer.pool._pool._pool if p.pid]
    except (AttributeError, TypeError):
        return None


def gpu_slots() -> list[str]:
    """This worker's GPU slots (each a CUDA_VISIBLE_DEVICES value), from the environment `sweepq worker` set."""
    raw = os.environ.get(GPU_ENV, "")
    return [slot for slot in raw.split(";") if slot]


@signals.worker_process_init.connect(weak=False, dispatch_uid="sweepq-pool-process")  # type: ignore[untyped-decorator]
def _pool_process(**_: Any) -> None:
    """Each pool process: a subreaper for its trials' processes, and its share of BLAS/OpenMP threads."""
    from workers.runners import reaper, threads

    reaper.become_subreaper()
    threads.apply_in_process()


@signals.worker_process_init.connect(weak=False, dispatch_uid="sweepq-gpu-slot")  # type: ignore[untyped-decorator]
def _pin_gpu(**_: Any) -> None:
    """Give each pool process its own GPU slot, by the process's stable index (kept when it is replaced)."""
    slots = gpu_slots()
    if not slots:
        return
    from billiard.process import current_process  # type: ignore[import-untyped]

    index = getattr(current_process(), "index", 0) or 0
    os.environ["CUDA_VISIBLE_DEVICES"] = slots[index % len(slots)]


def publish_trial(
    app: Celery, producer: Any, queue: str, task_id: str, kwargs: dict[str, Any], shadow: str, shown: str,
    options: dict[str, Any],
) -> None:
    """Send one trial's task message: Celery's own message and publisher (signals, task-sent events when they are
    on, publish retries) without send_task's wrapper, whose router and the AsyncResult it builds and drops cost a
    third of a send. No queue declaration per message either: a Redis queue is a list that needs none (the message
    goes straight to it by name), and workers declare the queues they consume."""
    amqp = app.amqp
    message = amqp.create_task_message(
        task_id, TRIAL_TASK, (), kwargs, reply_to=app.thread_oid, create_sent_event=app.conf.task_send_sent_event,
        shadow=shadow, argsrepr="()", kwargsrepr=shown,  # a kwargsrepr given is cheaper than Celery's saferepr
        ignore_result=True,  # no result to wait for: no subscribe and unsubscribe per trial
        **options,
    )
    amqp.send_task_message(producer, TRIAL_TASK, message, queue=queue, declare=[])
