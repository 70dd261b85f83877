"""The SDK's schedule calls and priorities against a real server (both backends)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from stepline import (
    Client,
    InvalidArgument,
    Overlap,
    ScheduleAlreadyExists,
    ScheduleNotFound,
    SyncClient,
)


async def test_client__creates_and_manages_a_schedule(client: Client) -> None:
    created = await client.create_schedule(
        "hourly",
        "report",
        {"full": True},
        cron="0 * * * *",
        timezone="America/New_York",
        overlap="buffer_one",
        catchup_window=timedelta(minutes=5),
        priority=2,
    )
    assert created.overlap is Overlap.BUFFER_ONE and created.priority == 2
    assert created.catchup_window == timedelta(minutes=5)
    assert created.next_fire_at is not None and created.next_fire_at.minute == 0
    assert await client.get_schedule("hourly") == created
    assert [s.schedule_id async for s in client.list_schedules(page_size=1)] == ["hourly"]
    assert (await client.pause_schedule("hourly")).paused
    schedule, run_id = await client.trigger_schedule("hourly")
    assert schedule.last_run_id == run_id
    run = await client.get(run_id)
    assert (run.workflow_name, run.input, run.priority) == ("report", {"full": True}, 2)
    assert not (await client.resume_schedule("hourly")).paused
    await client.delete_schedule("hourly")
    with pytest.raises(ScheduleNotFound):
        await client.get_schedule("hourly")


async def test_client__schedule_errors_are_typed(client: Client) -> None:
    await client.create_schedule("every", "wf", interval=timedelta(minutes=1))
    with pytest.raises(ScheduleAlreadyExists):
        await client.create_schedule("every", "wf", interval=timedelta(minutes=1))
    with pytest.raises(InvalidArgument) as caught:
        await client.create_schedule("bad", "wf", cron="every day")
    assert caught.value.metadata["field"] == "cron"


async def test_client__start_takes_a_priority_and_a_concurrency_key(client: Client) -> None:
    run = await client.start("wf", priority=1, concurrency_key="tenant-4")
    assert (run.priority, run.concurrency_key) == (1, "tenant-4")
    assert (await client.start("wf")).priority == 3


async def test_sync_client__schedule_calls(address: str, ns: str) -> None:
    def scenario() -> None:
        with SyncClient(address, namespace=ns) as sync:
            sync.create_schedule("s", "wf", cron="*/5 * * * *", paused=True)
            assert [s.schedule_id for s in sync.list_schedules()] == ["s"]
            _, run_id = sync.trigger_schedule("s")
            assert sync.get(run_id).workflow_name == "wf"
            sync.delete_schedule("s")
            assert sync.list_schedules() == []

    await asyncio.to_thread(scenario)
