"""The worker stream from the SDK's side, against real servers: a server restart in the
middle of a step is ridden out (the stream reopens and the unanswered call is sent
again, nothing runs twice), the worker never holds more runs than its slots, and a
server without the stream is served by long polls and unary calls instead."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest

from services.config import ServerConfig
from services.server import Server, _grpc_options
from stepline import Client, WorkflowContext, workflow
from tests.conftest import sqlite_url_for
from tests.sdk.conftest import eventually, running
from tests.services.conftest import start_api, stop_api


async def test_stream__a_server_restart_in_the_middle_of_a_step_is_ridden_out(
    tmp_path: Path, ns: str
) -> None:
    url = sqlite_url_for(tmp_path / "stepline.db")
    first = await start_api(url, lease_duration=timedelta(seconds=30))
    address = first.server.address
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> str:
        calls.append("slow")
        entered.set()
        release.wait(20)
        return "slow done"

    def quick() -> str:
        calls.append("quick")
        return "quick done"

    @workflow(name="restart")
    async def flow(ctx: WorkflowContext, _: Any) -> list[str]:
        return [await ctx.step.run("slow", slow), await ctx.step.run("quick", quick)]

    async with running(address, ns, [flow]) as worker:
        async with Client(address, namespace=ns) as client:
            run = await client.start("restart")
        await eventually(entered.is_set)
        await stop_api(first)  # ends the stream; the worker keeps reconnecting
        release.set()  # the step ends while no server is up: its CompleteStep waits
        await asyncio.sleep(0.3)
        second = await start_api(url, grpc_address=address, lease_duration=timedelta(seconds=30))
        try:
            async with Client(address, namespace=ns) as client:
                result = await client.result(run.run_id, timeout=30)
                steps = [(s.step_id, s.status) for s in await client.steps(run.run_id)]
        finally:
            await stop_api(second)

    assert result == ["slow done", "quick done"]
    assert calls == ["slow", "quick"]  # nothing ran twice
    assert steps == [("slow", "COMPLETED"), ("quick", "COMPLETED")]
    assert worker.stats.streams >= 2 and worker.stats.ended == {"completed": 1}


async def test_stream__the_worker_never_holds_more_runs_than_its_slots(
    client: Client, address: str, ns: str
) -> None:
    active = 0
    most = 0

    async def step() -> None:
        await asyncio.sleep(0.05)

    @workflow(name="slots")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        nonlocal active, most
        active += 1
        most = max(most, active)
        try:
            await ctx.step.run("wait", step)
        finally:
            active -= 1

    async with running(address, ns, [flow], concurrency=2) as worker:
        runs = [await client.start("slots") for _ in range(8)]
        await asyncio.wait_for(worker.wait_for_ended(8), 30)

    assert most == 2
    for run in runs:
        assert (await client.get(run.run_id)).status.name == "COMPLETED"


class WithoutStream(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Makes the server look like one built before WorkStream: UNIMPLEMENTED."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        if (handler_call_details.method or "").endswith("/WorkStream"):
            return None
        return await continuation(handler_call_details)


async def test_stream__a_server_without_it_is_long_polled_instead(
    tmp_path: Path, ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = ServerConfig(
        database_url=sqlite_url_for(tmp_path / "stepline.db"),
        grpc_address="127.0.0.1:0",
        http_address="",
    )
    server = Server(config)
    server._grpc = grpc.aio.server(options=_grpc_options(config), interceptors=[WithoutStream()])

    @workflow(name="old-server")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        return await ctx.step.run("hello", lambda: "hello")

    caplog.set_level(logging.INFO, logger="stepline.worker")
    await server.start()
    try:
        async with (
            running(server.address, ns, [flow]) as worker,
            Client(server.address, namespace=ns) as client,
        ):
            run = await client.start("old-server")
            assert await client.result(run.run_id, timeout=20) == "hello"
    finally:
        await server.stop(grace=1)

    assert "no worker stream: long-polling instead" in caplog.text
    assert worker.stats.polls > 0
