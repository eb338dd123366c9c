"""No-op work for the throughput benchmark: a bare Celery task and a sweepq trial that reports 10 times."""

from __future__ import annotations

import sys

from celery import Celery

from workers import report


def trial(x: float) -> float:
    """A sweepq trial that does nothing but report its metric ten times."""
    for step in range(1, 11):
        report(score=x, step=step)
    return x


def make_app(url: str) -> Celery:
    """Bare Celery on the same Redis: JSON, prefork, defaults otherwise (results stored, as Celery does)."""
    app = Celery("bench-raw", broker=url, backend=url, set_as_current=False)
    app.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json",
                    broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)

    @app.task(name="bench.noop")  # type: ignore[untyped-decorator]
    def noop() -> None:
        return None

    return app


if __name__ == "__main__":
    make_app(sys.argv[1]).worker_main(["worker", "-Q", "bench-raw", "-c", sys.argv[2], "-P", "prefork",
                                       "--loglevel=WARNING", "--without-mingle", "--without-gossip"])
