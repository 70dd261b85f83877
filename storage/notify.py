"""In-process wake-ups for long polls.

A long poll subscribes to its (namespace_id, task_queue) before it tries to claim, so
a start committed between its empty claim and its wait still wakes it. Backends call
`notify` once work is committed: SQLite directly, PostgreSQL from its LISTEN
connection, which also hears every other server sharing the database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

QueueKey = tuple[str, str]


class WakeHub:
    def __init__(self) -> None:
        self._events: dict[QueueKey, set[asyncio.Event]] = {}

    @contextlib.contextmanager
    def subscribe(self, namespace_id: str, task_queue: str) -> Iterator[asyncio.Event]:
        """An event set by every notify of the queue while the block runs."""
        key = (namespace_id, task_queue)
        event = asyncio.Event()
        self._events.setdefault(key, set()).add(event)
        try:
            yield event
        finally:
            waiters = self._events.get(key)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._events[key]

    def notify(self, namespace_id: str, task_queue: str) -> None:
        # Every waiter re-checks: a woken poll whose filter excludes the new run must
        # not swallow the wake-up of one that would take it.
        for event in self._events.get((namespace_id, task_queue), ()):
            event.set()

    def notify_all(self) -> None:
        """Wake every waiter, e.g. after notifications may have been missed."""
        for waiters in self._events.values():
            for event in waiters:
                event.set()
