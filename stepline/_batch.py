"""Batches for the client: the filters of a batch request, and the loop over its pages.

Each page is one call, which the server runs as one transaction; the loop follows
`next_page_token` until `has_more` is false. A page that fails with UNAVAILABLE is sent
again with the same token: the server makes a repeated page harmless (a canceled run is
not canceled again; a batch replays each run once, by its batch id).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stepline._convert import to_timestamp
from stepline._errors import ServerUnavailable
from stepline._retry import Backoff
from stepline._values import BatchResult, RunStatus
from stepline.v1 import workflow_service_pb2 as wf

log = logging.getLogger("stepline.client")
Progress = Callable[[BatchResult], object]
"""Called after each page with the totals so far (`done` is True after the last)."""
_PAGE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class RunFilter:
    """The list filters a batch takes; unset ones match every run."""

    statuses: tuple[RunStatus, ...] = ()
    workflow_name: str = ""
    task_queue: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None
    replay_of_run_id: str = ""

    @classmethod
    def of(
        cls,
        statuses: Iterable[RunStatus | str],
        workflow_name: str,
        task_queue: str,
        created_after: datetime | None,
        created_before: datetime | None,
        replay_of_run_id: str,
    ) -> RunFilter:
        parsed = tuple(RunStatus.parse(s) for s in statuses)
        return cls(
            parsed, workflow_name, task_queue, created_after, created_before, replay_of_run_id
        )

    def fill(
        self, request: wf.BatchCancelWorkflowRunsRequest | wf.BatchReplayWorkflowRunsRequest
    ) -> None:
        request.statuses.extend(status.proto for status in self.statuses)  # type: ignore[misc]
        request.workflow_name = self.workflow_name
        request.task_queue = self.task_queue
        request.replay_of_run_id = self.replay_of_run_id
        if self.created_after is not None:
            request.created_after.CopyFrom(to_timestamp(self.created_after, "created_after"))
        if self.created_before is not None:
            request.created_before.CopyFrom(to_timestamp(self.created_before, "created_before"))


async def run_pages(
    call: Callable[[str], Awaitable[Any]],
    page_token: str,
    progress: Progress | None,
) -> BatchResult:
    """Call `call(token)` page after page from `page_token`, adding up the answers."""
    total = BatchResult()
    token = page_token
    while True:
        page = await _page(call, token)
        total.affected_count += page.affected_count
        total.skipped_count += page.skipped_count
        total.run_ids.extend(page.run_ids)
        total.pages += 1
        total.batch_id = getattr(page, "batch_id", "")
        total.next_page_token = page.next_page_token
        total.done = not page.has_more
        if progress is not None:
            progress(total)
        if total.done:
            return total
        token = page.next_page_token


async def _page(call: Callable[[str], Awaitable[Any]], token: str) -> Any:
    """One page; sent again (same token) while the server is unavailable, a few times."""
    backoff = Backoff()
    for attempt in range(1, _PAGE_ATTEMPTS + 1):
        try:
            return await call(token)
        except ServerUnavailable as exc:
            if attempt == _PAGE_ATTEMPTS:
                raise
            delay = backoff.next_delay()
            log.warning("batch page unavailable, sending it again in %.1fs: %s", delay, exc)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
