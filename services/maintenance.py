"""The maintenance loop: fails runs past their deadline even when no worker is polling,
resolves waits past their timeout (waking their runs), and reports whether the database
answers, so health checks (and the REST gateway's /readyz) say NOT_SERVING while storage
is unreachable. Beside it run loops of their own pace: firing due schedules
(services/scheduler.py) and deleting runs past their namespace's retention
(services/retention.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Protocol

from storage import Store, StoreError

log = logging.getLogger(__name__)

SWEEP_BATCH = 500


StorageHealth = Callable[[bool], Awaitable[None]]


class Loop(Protocol):
    """A task of its own beside the sweep (the scheduler, retention), told by
    `storage_ok` whether the database answered the last ping."""

    async def run_forever(self, storage_ok: Callable[[], bool]) -> None: ...


class Maintenance:
    def __init__(
        self,
        store: Store,
        interval: timedelta,
        on_storage_health: StorageHealth,
        loops: Sequence[tuple[str, Loop]] = (),
    ) -> None:
        self._store = store
        self._interval = interval.total_seconds()
        self._on_storage_health = on_storage_health
        self._loops = loops
        self._storage_ok: bool | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name="stepline-maintenance")]
        for name, loop in self._loops:
            running = loop.run_forever(lambda: self._storage_ok is not False)
            self._tasks.append(asyncio.create_task(running, name=f"stepline-{name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def sweep_once(self) -> int:
        """Fail every overdue run, a batch at a time; return how many."""
        return await _in_batches(self._store.run_fail_overdue)

    async def expire_waits_once(self) -> int:
        """Resolve every wait past its timeout, a batch at a time; return how many."""
        return await _in_batches(self._store.wait_expire)

    async def check_storage(self) -> bool:
        """Ping the database; report a change of its health. True when it answers."""
        try:
            await self._store.ping()
            healthy = True
        except StoreError as exc:
            healthy = False
            if self._storage_ok is not False:
                log.warning("storage unreachable, reporting NOT_SERVING: %s", exc)
        if healthy != self._storage_ok:
            if healthy and self._storage_ok is False:
                log.info("storage reachable again, reporting SERVING")
            self._storage_ok = healthy
            await self._on_storage_health(healthy)
        return healthy

    async def _run(self) -> None:
        while True:
            if await self.check_storage():
                try:
                    failed = await self.sweep_once()
                    if failed:
                        log.info("deadline sweep failed %d overdue runs", failed)
                except StoreError as exc:
                    log.warning("deadline sweep skipped: %s", exc)
                try:
                    await self.expire_waits_once()
                except StoreError as exc:
                    log.warning("wait timeout sweep skipped: %s", exc)
            await asyncio.sleep(self._interval)


async def _in_batches(step: Callable[[int], Awaitable[int]]) -> int:
    """Call `step(SWEEP_BATCH)` until a call handles less than a batch; the total."""
    total = 0
    while True:
        handled = await step(SWEEP_BATCH)
        total += handled
        if handled < SWEEP_BATCH:
            return total
