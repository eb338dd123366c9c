"""kombu's Redis transport with one reused synchronous client per channel.

kombu builds a new redis.Redis object for every publish and acknowledgement (Channel.conn_or_acquire), and with
redis-py 8 building one copies ~170 response callbacks: more CPU than the round trip itself. Reusing one client
over the channel's connection pool is what kombu does for its asynchronous client already. Selected with
broker_transport in workers.app; everything else is kombu's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):  # type: ignore[misc,unused-ignore]
    _sync_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        if self._sync_client is None:
            self._sync_client = self._create_client()  # type: ignore[no-untyped-call,unused-ignore]
        yield self._sync_client


class Transport(kombu_redis.Transport):  # type: ignore[misc,unused-ignore]
    Channel = Channel
