"""The maintenance loop: fails runs past their deadline even when no worker is polling."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from storage import Store, StoreError

log = logging.getLogger(__name__)

SWEEP_BATCH = 500


class Maintenance:
    def __init__(self, store: Store, interval: timedelta) -> None:
        self._store = store
        self._interval = interval.total_seconds()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stepline-maintenance")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def sweep_once(self) -> int:
        """Fail every overdue run, a batch at a time; return how many."""
        total = 0
        while True:
            failed = await self._store.run_fail_overdue(SWEEP_BATCH)
            total += failed
            if failed < SWEEP_BATCH:
                return total

    async def _run(self) -> None:
        while True:
            try:
                failed = await self.sweep_once()
                if failed:
                    log.info("deadline sweep failed %d overdue runs", failed)
            except StoreError as exc:
                log.warning("deadline sweep skipped: %s", exc)
            await asyncio.sleep(self._interval)
