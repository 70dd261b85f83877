"""`Worker(metadata=...)` goes with every WorkerService call, not only the polls (or
with the worker stream that carries them all): the server records each call's method
and metadata through an interceptor."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeAlias

import grpc
import pytest

from services.config import ServerConfig
from services.server import Server, _grpc_options
from stepline import Client, WorkflowContext, workflow
from tests.conftest import sqlite_url_for
from tests.sdk.conftest import running

TAG = ("x-tenant", "acme")
CALLS = {"PollActivity", "BeginStep", "RecordHeartbeat", "CompleteStep", "CompleteWorkflow"}
UNARY_CALLS = {(call, True) for call in CALLS}


Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


class Recorder(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Notes (method, has our tag) for every call the server receives."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        metadata = tuple(handler_call_details.invocation_metadata or ())
        method = handler_call_details.method or ""
        self.calls.append((method.rsplit("/", 1)[-1], TAG in metadata))
        return await continuation(handler_call_details)


@pytest.mark.parametrize(
    ("stream", "expected"), [(True, {("WorkStream", True)}), (False, UNARY_CALLS)]
)
async def test_metadata__is_sent_on_every_worker_call(
    tmp_path: Path, ns: str, stream: bool, expected: set[tuple[str, bool]]
) -> None:
    config = ServerConfig(
        database_url=sqlite_url_for(tmp_path / "stepline.db"),
        grpc_address="127.0.0.1:0",
        http_address="",
        lease_duration=timedelta(seconds=1),
    )
    recorder = Recorder()
    server = Server(config)
    # The real server, built with a recording interceptor in front of its services.
    server._grpc = grpc.aio.server(options=_grpc_options(config), interceptors=[recorder])

    async def slow() -> str:
        await asyncio.sleep(0.6)  # past the first heartbeat (a third of the lease)
        return "done"

    @workflow(name="tagged")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        return await ctx.step.run("slow", slow)

    await server.start()
    address = server.address
    try:
        async with (
            Client(address, namespace=ns) as client,
            running(address, ns, [flow], metadata=[TAG], step_begin_after=0.0, stream=stream),
        ):
            run = await client.start("tagged")
            assert await client.result(run.run_id, timeout=20) == "done"
    finally:
        await server.stop(grace=1)

    worker_calls = {
        (method, tagged) for method, tagged in recorder.calls if method in {*CALLS, "WorkStream"}
    }
    assert worker_calls == expected
