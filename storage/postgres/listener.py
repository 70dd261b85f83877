"""LISTEN for wake-ups from every server sharing the database.

Starts, retries and sleeps send `pg_notify('stepline_wake', '<namespace>:<queue>')` in
their own transaction, so a notification arrives only once the work is committed.
When the connection drops, the listener reconnects with backoff and wakes every
waiting poll, since notifications sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg

from storage.notify import WakeHub

CHANNEL = "stepline_wake"
_FIRST_RETRY = 0.1
_MAX_RETRY = 5.0
log = logging.getLogger(__name__)


def parse_payload(payload: str) -> tuple[str, str] | None:
    # Namespaces never contain ':', task queues may.
    namespace_id, sep, task_queue = payload.partition(":")
    return (namespace_id, task_queue) if sep else None


class Listener:
    def __init__(self, conninfo: str, hub: WakeHub) -> None:
        self._conninfo = conninfo
        self._hub = hub
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stepline-pg-listener")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        delay = _FIRST_RETRY
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError) as exc:
                log.warning("wake-up listener lost its connection (%s); reconnecting", exc)
            # Back off while the database stays away; start over once it was reached.
            delay = _FIRST_RETRY if self.connected.is_set() else min(delay * 2, _MAX_RETRY)
            self.connected.clear()
            await asyncio.sleep(delay)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.connected.set()
            self._hub.notify_all()  # anything sent while we were not listening
            async for notify in conn.notifies():
                key = parse_payload(notify.payload)
                if key is not None:
                    self._hub.notify(*key)
