"""Retention, from the maintenance loop of every server: the runs that ended longer ago
than their namespace's retention are deleted, with their steps, signals, waits and event
links, a batch at a time.

Each batch is one short transaction (storage: Store.run_delete_expired) with a pause
after it, so claims and the other writers get the database between batches; a pass
walks every namespace with a retention until it has nothing left to delete. On
PostgreSQL one server deletes at a time: a batch that finds another server's batch in
progress (`busy`) ends this server's pass, and the next pass, an interval later, tries
again; so servers never delete side by side, and each run is counted once, by the
server whose batch deleted it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from services.metrics import Metrics
from storage import Store, StoreError
from storage.access import Namespace, NamespaceListParams
from storage.retention import RunDeleteExpiredParams

log = logging.getLogger(__name__)

NAMESPACE_PAGE = 500


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    interval: timedelta = timedelta(seconds=60)
    """From the end of one pass to the start of the next."""
    batch: int = 500
    """Runs deleted per transaction."""
    pause: timedelta = timedelta(milliseconds=100)
    """Between two batches: the database's time for everyone else."""


class BusyElsewhere(Exception):
    """Another server is deleting: this pass stops."""


class Retention:
    def __init__(self, store: Store, metrics: Metrics, settings: RetentionSettings) -> None:
        self._store = store
        self._metrics = metrics
        self._settings = settings

    async def delete_once(self) -> int:
        """One pass over every namespace with a retention; how many runs it deleted
        (a pass that found another server deleting stops there)."""
        total = 0
        try:
            for namespace in await self._namespaces_with_retention():
                total += await self._delete_namespace(namespace.namespace_id)
        except BusyElsewhere:
            log.debug("retention: another server is deleting; pass ended")
        return total

    async def run_forever(self, storage_ok: Callable[[], bool]) -> None:
        """Pass after pass until canceled, skipping passes while storage does not answer."""
        while True:
            if storage_ok():
                try:
                    deleted = await self.delete_once()
                    if deleted:
                        log.info("retention deleted %d runs", deleted)
                except StoreError as exc:
                    log.warning("retention pass skipped: %s", exc)
            await asyncio.sleep(self._settings.interval.total_seconds())

    async def _namespaces_with_retention(self) -> list[Namespace]:
        found: list[Namespace] = []
        after = ""
        while True:
            page = await self._store.namespace_list(
                NamespaceListParams(after=after, limit=NAMESPACE_PAGE)
            )
            found += [n for n in page if n.retention > timedelta(0)]
            if len(page) < NAMESPACE_PAGE:
                return found
            after = page[-1].namespace_id

    async def _delete_namespace(self, namespace_id: str) -> int:
        """Batches until the namespace has nothing expired left; how many deleted."""
        params = RunDeleteExpiredParams(namespace_id, self._settings.batch)
        total = 0
        while True:
            result = await self._store.run_delete_expired(params)
            if result.busy:
                raise BusyElsewhere
            if result.deleted:
                total += result.deleted
                self._metrics.runs_deleted(namespace_id, result.deleted)
            if result.deleted < params.limit:
                return total
            await asyncio.sleep(self._settings.pause.total_seconds())
