"""Many runs written straight through the store (the same storage the server then
serves), far faster than 10,000 StartWorkflow calls; concurrent creates are committed
together by the store's group commit."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from storage import create_store
from tests.storage.helpers import make_create_params

_CHUNK = 500


async def _seed(url: str, count: int, queue: str) -> None:
    store = create_store(url)
    await store.start()
    try:
        await store.migrate()
        for first in range(0, count, _CHUNK):
            await asyncio.gather(
                *(
                    store.run_create(
                        make_create_params("default", queue, workflow_name=f"seeded-{i % 7}")
                    )
                    for i in range(first, min(first + _CHUNK, count))
                )
            )
    finally:
        await store.close()


def seed_runs(url: str, count: int, queue: str) -> None:
    """`count` PENDING runs on `queue` in the default namespace of the database at `url`.
    In a thread of its own: Playwright's sync API keeps an event loop in the tests' thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _seed(url, count, queue)).result()
