"""The poll fallback: a run whose wake-up never reaches this server (here: started by
another process's store on the same SQLite file, whose in-process notifications stay
there) is still picked up by a waiting poll at its next re-check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest_asyncio

from storage import create_store
from storage.records import RetryPolicy, RunCreateParams
from tests.conftest import sqlite_url_for
from tests.services.conftest import Api, start_api, stop_api
from tests.services.helpers import poll

POLICY = RetryPolicy(timedelta(seconds=1), 2.0, timedelta(seconds=100), 5)


@pytest_asyncio.fixture
async def quick_fallback(tmp_path: Path) -> AsyncIterator[tuple[Api, str]]:
    url = sqlite_url_for(tmp_path / "stepline.db")
    api = await start_api(url, poll_fallback=timedelta(milliseconds=200))
    try:
        yield api, url
    finally:
        await stop_api(api)


async def test_fallback__picks_up_a_run_whose_wake_up_was_never_heard(
    quick_fallback: tuple[Api, str],
) -> None:
    api, url = quick_fallback
    waiting = asyncio.ensure_future(poll(api, "default", wait=30))
    await asyncio.sleep(0.1)
    other = create_store(url)  # a second process's store: its wake-ups stay with it
    await other.start()
    try:
        params = RunCreateParams(
            "default", "wf", "", "default", None, None, None, None, None, POLICY
        )
        run = (await other.run_create(params)).run
    finally:
        await other.close()
    tasks = await asyncio.wait_for(waiting, timeout=10)
    assert [t.run.run_id for t in tasks] == [run.run_id]
