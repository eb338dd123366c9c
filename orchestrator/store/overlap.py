"""Script calls sent together and read back one by one, so Redis runs the next while the caller decodes this one.

A reader of a whole big sweep (the dashboard's first view, every curve of a sweep) makes a script call per 1,000
trials: sent one after the other, the time Redis spends on them adds to the time Python spends decoding; sent at
once on one connection, the two overlap (the machine has a core for each).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import redis

PER_CALL = 1000  # trials a bulk script call reads
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One read-only script call: its Lua source, keys and arguments."""

    script: str
    keys: Sequence[str]
    args: Sequence[Any] = ()


def batches(items: Sequence[T], size: int = PER_CALL) -> list[Sequence[T]]:
    """The items in consecutive groups of `size` (the last may be shorter): one script call's worth each."""
    return [items[start:start + size] for start in range(0, len(items), size)]


def overlapped(client: redis.Redis, calls: Sequence[Call]) -> Iterator[Any]:
    """Each call's reply, in order, read as the caller asks for the next (an error reply is raised; a caller that
    stops early leaves nothing unread on a pooled connection)."""
    if not calls:
        return
    sources = list(dict.fromkeys(c.script for c in calls))
    pipe = client.pipeline(transaction=False)
    for source in sources:
        pipe.script_load(source)
    sha = dict(zip(sources, pipe.execute(), strict=True))  # one round trip
    conn: Any = client.connection_pool.get_connection()
    read = 0
    try:
        commands = [("EVALSHA", sha[c.script], len(c.keys), *c.keys, *c.args) for c in calls]
        conn.send_packed_command(conn.pack_commands(commands))
        for _ in calls:
            reply = conn.read_response()
            read += 1
            yield reply
    finally:
        if read < len(calls):  # replies left unread (an error, or the caller stopped): the connection is not reusable
            conn.disconnect()
        client.connection_pool.release(conn)
