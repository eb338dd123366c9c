"""No-op work for the throughput and scale benchmarks: a bare Celery task, a sweepq trial that reports 10 times, and
one that spaces its reports (so an early stop can land before the trial ends on its own)."""

from __future__ import annotations

import math
import sys
import time

from celery import Celery

from workers import report


def trial(x: float) -> float:
    """A sweepq trial that does nothing but report its metric ten times."""
    for step in range(1, 11):
        report(score=x, step=step)
    return x


def paced(x: float, gap: float) -> float:
    """Ten reports of a rising curve that levels off at `x`, `gap` seconds apart: a trial with a quality to stop on."""
    value = x
    for step in range(1, 11):
        if step > 1:
            time.sleep(gap)
        value = x * (1 - math.exp(-step / 3))
        report(score=value, step=step)
    return value


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
