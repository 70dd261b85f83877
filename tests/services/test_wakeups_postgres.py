"""LISTEN/NOTIFY wake-ups on PostgreSQL: across servers, and after the listener's
connection drops. Servers re-check only every 60 s on their own (see conftest), so a
poll that returns within the bound was woken by a notification."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
import pytest_asyncio

from tests.services.conftest import Api, start_api, stop_api
from tests.services.helpers import poll, start

pytestmark = pytest.mark.postgres


@pytest_asyncio.fixture
async def two_servers(postgres_url: str) -> AsyncIterator[tuple[Api, Api]]:
    first, second = await start_api(postgres_url), await start_api(postgres_url)
    try:
        yield first, second
    finally:
        await stop_api(first)
        await stop_api(second)


async def test_start_on_one_server_wakes_a_poll_waiting_on_another(
    two_servers: tuple[Api, Api], ns: str
) -> None:
    a, b = two_servers
    waiting = asyncio.ensure_future(poll(b, ns, wait=30))
    await asyncio.sleep(0.2)
    run = (await start(a, ns)).run
    tasks = await asyncio.wait_for(waiting, timeout=10)
    assert [t.run.run_id for t in tasks] == [run.run_id]


async def test_listener_reconnects_after_its_connection_is_killed(
    two_servers: tuple[Api, Api], ns: str, postgres_admin_url: str
) -> None:
    a, b = two_servers
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE query ILIKE 'LISTEN%%' AND pid <> pg_backend_pid()"
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 2
    waiting = asyncio.ensure_future(poll(b, ns, wait=30))
    await asyncio.sleep(1.0)  # the listener retries after 100 ms
    run = (await start(a, ns)).run
    tasks = await asyncio.wait_for(waiting, timeout=10)
    assert [t.run.run_id for t in tasks] == [run.run_id]
