"""An execution that ends stops everything it runs: steps beside a failed one in a
gather are cancelled, and a worker whose event loop was blocked past its lease does not
run the next step's side effect that another worker already ran."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Sequence
from typing import Any

from stepline import Client, NonRetryableError, RunStatus, Worker, WorkflowContext, workflow
from stepline._workflow import AnyWorkflow
from tests.sdk.conftest import eventually, running

STALLED = "stalled-worker"


async def test_failed_step_in_a_gather__cancels_its_sibling(
    client: Client, address: str, ns: str
) -> None:
    cancelled = asyncio.Event()
    effects: list[str] = []

    async def failing() -> None:
        raise NonRetryableError("no stock")

    async def slow() -> str:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        effects.append("slow done")
        return "slow"

    @workflow(name="gathered")
    async def flow(ctx: WorkflowContext, _: Any) -> list[Any]:
        return list(
            await asyncio.gather(ctx.step.run("failing", failing), ctx.step.run("slow", slow))
        )

    async with running(address, ns, [flow]):
        run = await client.start("gathered")
        final = await client.wait(run.run_id, timeout=20)
        await asyncio.wait_for(cancelled.wait(), 10)

    assert final.status is RunStatus.FAILED and effects == []


@contextlib.asynccontextmanager
async def _in_thread(
    address: str, ns: str, workflows: Sequence[AnyWorkflow]
) -> AsyncIterator[Worker]:
    """A Worker on an event loop of its own thread, which workflow code may block while
    the server (on the test's loop) goes on."""
    # One slot: no poll waits while its run is held, so it claims nothing more meanwhile.
    worker = Worker(
        address, namespace=ns, workflows=workflows, concurrency=1, poll_wait=1, shutdown_grace=1
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name=STALLED)
    thread.start()
    serving = asyncio.run_coroutine_threadsafe(worker.run(), loop)
    try:
        yield worker
    finally:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(worker.shutdown(), loop))
        await asyncio.wrap_future(serving)
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)
        loop.close()


async def test_loop_blocked_past_the_lease__next_step_runs_once(
    client: Client, address: str, ns: str
) -> None:
    blocked, taken_over = threading.Event(), threading.Event()
    ran_by: list[str] = []

    async def charge() -> str:
        ran_by.append(threading.current_thread().name)
        return "charged"

    @workflow(name="stalls")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        await ctx.step.run("reserve", lambda: "reserved")
        if threading.current_thread().name == STALLED:
            blocked.set()
            taken_over.wait(30)  # blocks the stalled worker's loop: no heartbeat
        return await ctx.step.run("charge", charge)

    async with _in_thread(address, ns, [flow]) as stalled:
        run = await client.start("stalls")
        await asyncio.to_thread(blocked.wait, 20)
        async with running(address, ns, [flow]):
            assert await client.result(run.run_id, timeout=20) == "charged"
        taken_over.set()
        await eventually(lambda: stalled.stats.ended.total() == 1)

    assert ran_by == ["MainThread"]
    assert stalled.stats.ended["lease lost"] == 1
