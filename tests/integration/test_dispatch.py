"""How the scheduler sends a trial's task (publish_trial), on a real Redis: the message in the queue's list is the
Celery message a worker runs (name, id, kwargs, what Flower shows, time limits, no result), and with task events
on, each send is announced as task-sent, which Flower lists as a queued task."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import redis

from orchestrator.settings import Settings
from workers.app import TRIAL_TASK, create_app, publish_trial


def test_a_trial_message_is_the_celery_message_a_worker_runs(redis_url: str) -> None:
    app = create_app(Settings(redis_url=redis_url))
    queue, task_id = f"q{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    kwargs = {"sweep": "s1", "trial": 4, "attempt": 2}
    with app.producer_or_acquire() as producer:
        publish_trial(app, producer, queue, task_id, kwargs, "sweepq.trial demo #4", '{"trial": 4}',
                      {"time_limit": 90, "soft_time_limit": 60})
    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.lrange(queue, 0, -1)
        assert len(raw) == 1
        envelope = json.loads(raw[0])
        headers, props = envelope["headers"], envelope["properties"]
        assert (headers["task"], headers["id"], headers["shadow"]) == (TRIAL_TASK, task_id, "sweepq.trial demo #4")
        assert (headers["kwargsrepr"], headers["ignore_result"], headers["timelimit"]) == ('{"trial": 4}', True, [90, 60])
        assert props["delivery_info"]["routing_key"] == queue and envelope["content-type"] == "application/json"
        args, sent_kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
        assert (args, sent_kwargs) == ([], kwargs)
    finally:
        client.delete(queue)


def test_with_task_events_on_each_send_is_announced_as_task_sent(redis_url: str) -> None:
    app = create_app(Settings(redis_url=redis_url, task_events=True))
    queue, task_id = f"q{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    client = redis.Redis.from_url(redis_url)
    events = client.pubsub()  # type: ignore[no-untyped-call]
    events.psubscribe("*celeryev*")  # Celery's event exchange, as kombu's Redis transport publishes it
    try:
        assert events.get_message(timeout=5)["type"] == "psubscribe"
        with app.producer_or_acquire() as producer:
            publish_trial(app, producer, queue, task_id, {"sweep": "s1", "trial": 0, "attempt": 1}, "x", "{}", {})
        sent = [_event(m) for m in iter(lambda: events.get_message(timeout=2), None)]
    finally:
        events.close()
        client.delete(queue)
    assert [(e["type"], e["uuid"], e["name"], e["queue"]) for e in sent] == [("task-sent", task_id, TRIAL_TASK, queue)]


def _event(message: dict[str, Any]) -> dict[str, Any]:
    envelope = json.loads(message["data"])
    return dict(json.loads(base64.b64decode(envelope["body"])))
