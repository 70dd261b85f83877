"""Run listing helpers shared by the run list tests."""

from __future__ import annotations

from datetime import datetime

from storage import Store
from storage.records import Cursor, Page, Run, RunFilter, RunListParams
from tests.storage.paging import Fetch


def run_key(run: Run) -> tuple[datetime, str]:
    return run.created_at, run.run_id


def ordered(runs: list[Run]) -> list[str]:
    return [r.run_id for r in sorted(runs, key=run_key)]


def ids(page: Page[Run]) -> list[str]:
    return [r.run_id for r in page.items]


async def list_runs(
    store: Store,
    ns: str,
    limit: int = 100,
    cursor: Cursor | None = None,
    run_filter: RunFilter | None = None,
) -> Page[Run]:
    return await store.run_list(
        RunListParams(namespace_id=ns, filter=run_filter or RunFilter(), limit=limit, cursor=cursor)
    )


def fetcher(store: Store, ns: str, run_filter: RunFilter | None = None) -> Fetch[Run]:
    async def fetch(limit: int, cursor: Cursor | None) -> Page[Run]:
        return await list_runs(store, ns, limit, cursor, run_filter)

    return fetch
