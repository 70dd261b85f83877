"""Schedules exactly once, for real: two `stepline-server serve` processes fire one
per-second schedule from ONE PostgreSQL database, then both stop and one comes back.
Every fire time from the first to the last started exactly one run: none twice (two
servers racing, a restart) and none lost (the fires due while no server ran are caught
up after the restart, being within the catch-up window)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from stepline import Client
from stepline.v1 import schedule_pb2 as sc
from stepline.v1 import workflow_service_pb2_grpc
from tests.cli.processes import server
from tests.support import postgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# Few connections each: the database's connections are shared with every other test.
SMALL_POOL = {"STEPLINE_DB_POOL_SIZE": "3"}


@pytest.fixture
def database(postgres_admin_url: str) -> Iterator[str]:
    with postgres.fresh_database(postgres_admin_url) as url:
        yield url


async def _create_every_second(address: str, ns: str) -> None:
    import grpc

    async with grpc.aio.insecure_channel(address) as channel:
        stub = workflow_service_pb2_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
        await stub.CreateSchedule(
            sc.CreateScheduleRequest(
                namespace_id=ns,
                schedule_id="every-second",
                cron="* * * * * *",
                workflow_name="tick",
                task_queue="nobody-polls",
                overlap=sc.SCHEDULE_OVERLAP_ALLOW_ALL,
            )
        )


async def _fire_times(address: str, ns: str) -> list[datetime]:
    async with Client(address, namespace=ns) as client:
        await client.pause_schedule("every-second")
        await asyncio.sleep(1.0)  # a fire decided before the pause commits meanwhile
        runs = [run async for run in client.list()]
    return [datetime.fromisoformat(run.context["schedule"]["fire_at"]) for run in runs]


async def test_two_servers_and_a_restart_fire_each_second_exactly_once(
    database: str, tmp_path: Path
) -> None:
    ns = "default"  # the database is this test's own
    with ExitStack() as both:
        a = both.enter_context(server(database, tmp_path, **SMALL_POOL))
        both.enter_context(server(database, tmp_path, **SMALL_POOL))
        await _create_every_second(a, ns)
        await asyncio.sleep(4)
    await asyncio.sleep(2.5)  # no server runs: these fires are caught up after the restart
    with server(database, tmp_path, **SMALL_POOL) as again:
        await asyncio.sleep(3)
        fire_times = await _fire_times(again, ns)
    assert len(fire_times) >= 7
    assert len(set(fire_times)) == len(fire_times), "a fire started two runs"
    first, last = min(fire_times), max(fire_times)
    expected = int((last - first) / timedelta(seconds=1)) + 1
    assert len(fire_times) == expected, "a fire started no run"
