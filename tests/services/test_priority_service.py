"""Priorities through a real server: the start option, its validation, and fairness."""

from __future__ import annotations

import asyncio

import grpc

from tests.services.conftest import Api
from tests.services.helpers import expect_error, get_run, poll, start


async def test_start__priority_and_concurrency_key_are_shown_on_the_run(api: Api, ns: str) -> None:
    started = (await start(api, ns, priority=1, concurrency_key="customer-9")).run
    assert (started.priority, started.concurrency_key) == (1, "customer-9")
    read = await get_run(api, ns, started.run_id)
    assert (read.priority, read.concurrency_key) == (1, "customer-9")
    assert (await start(api, ns)).run.priority == 3


async def test_start__a_priority_outside_1_to_5_is_invalid(api: Api, ns: str) -> None:
    for bad in (6, -1):
        await expect_error(
            start(api, ns, priority=bad),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_ARGUMENT",
            field="priority",
        )


async def test_fairness__a_flood_of_priority_5_runs_does_not_delay_a_priority_1_run(
    api: Api, ns: str
) -> None:
    """The priority-1 run is in the very next claim batch, however many priority-5 runs
    were started before it."""
    await asyncio.gather(*(start(api, ns, "bulk", priority=5) for _ in range(200)))
    urgent = (await start(api, ns, "urgent", priority=1)).run
    batch = await poll(api, ns, max_runs=10)
    assert len(batch) == 10
    assert urgent.run_id in [task.run.run_id for task in batch]
