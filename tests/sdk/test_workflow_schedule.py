"""`@workflow(schedule=...)` through a real server and worker (both backends): the
worker's registration creates the schedule "workflow:<name>", whose fires start runs the
worker completes; a worker with another expression updates it; the same one changes
nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stepline import (
    Client,
    InvalidArgument,
    RunStatus,
    ScheduleNotFound,
    Worker,
    WorkflowContext,
    workflow,
)
from tests.sdk.conftest import eventually, running


@workflow(name="ticker", schedule="* * * * * *")
async def every_second(ctx: WorkflowContext, _: Any) -> str:
    return await ctx.step.run("tick", lambda: "tick")


@workflow(name="ticker", schedule="0 9 * * 1", timezone="Asia/Tokyo")
async def mondays(ctx: WorkflowContext, _: Any) -> str:
    return "monday"


async def _first_completed(client: Client, name: str) -> Any:
    """The first completed run of `name` (the test's timeout bounds the wait)."""
    while True:
        async for run in client.list(workflow_name=name, statuses=[RunStatus.COMPLETED]):
            return run
        await asyncio.sleep(0.1)


async def test_workflow_schedule__the_worker_creates_it_and_its_fires_run(
    address: str, ns: str, client: Client
) -> None:
    async with running(address, ns, [every_second]):
        run = await asyncio.wait_for(_first_completed(client, "ticker"), 30)
    assert run.output == "tick" and run.input is None
    assert run.context["schedule"]["schedule_id"] == "workflow:ticker"
    schedule = await client.get_schedule("workflow:ticker")
    assert (schedule.cron, schedule.timezone, schedule.workflow_name) == (
        "* * * * * *",
        "UTC",
        "ticker",
    )
    assert schedule.task_queue == "default" and schedule.version == ""


async def _registered(client: Client, worker: Worker) -> None:
    """Wait until the worker has registered (its registration keeps the schedule)."""

    async def listed() -> bool:
        return worker.worker_id in {w["workerId"] for w in await client.list_workers()}

    await eventually(listed)


async def test_workflow_schedule__a_changed_expression_updates_it(
    address: str, ns: str, client: Client
) -> None:
    async with running(address, ns, [mondays]) as worker:
        await _registered(client, worker)
    created = await client.get_schedule("workflow:ticker")
    assert (created.cron, created.timezone) == ("0 9 * * 1", "Asia/Tokyo")
    async with running(address, ns, [mondays]) as worker:
        await _registered(client, worker)
    assert await client.get_schedule("workflow:ticker") == created
    await client.pause_schedule("workflow:ticker")
    async with running(address, ns, [every_second]) as worker:
        await _registered(client, worker)
    updated = await client.get_schedule("workflow:ticker")
    assert (updated.cron, updated.timezone) == ("* * * * * *", "UTC")
    assert updated.paused  # a pause by an operator outlives a deploy


def test_workflow_schedule__timezone_needs_a_schedule() -> None:
    with pytest.raises(ValueError, match="schedule"):
        workflow(name="x", timezone="UTC")


@workflow(name="ticker", schedule="61 * * * *")
async def never_valid(ctx: WorkflowContext, _: Any) -> None:
    return None


async def test_workflow_schedule__a_refused_expression_stops_the_worker(
    address: str, ns: str, client: Client
) -> None:
    worker = Worker(address, namespace=ns, workflows=[never_valid], poll_wait=1.0)
    with pytest.raises(InvalidArgument) as caught:
        await asyncio.wait_for(worker.run(), 30)
    assert caught.value.metadata["field"] == "workflows[0].schedule_cron"
    with pytest.raises(ScheduleNotFound):
        await client.get_schedule("workflow:ticker")
