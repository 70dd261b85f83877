"""Misuse fails a run for good (or is refused before anything is sent), and waiting for
a run rides out a server restart."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stepline import (
    Client,
    NotSerializableError,
    RunStatus,
    ServerUnavailable,
    WorkflowContext,
    workflow,
)
from tests.conftest import sqlite_url_for
from tests.sdk.conftest import eventually, running
from tests.services.conftest import start_api, stop_api


@pytest.mark.parametrize("value", [10**400, {"total": [-(10**309)]}])
async def test_input__an_int_past_the_double_range_is_not_serialisable(
    client: Client, value: Any
) -> None:
    with pytest.raises(NotSerializableError, match="integer too large"):
        await client.start("anything", value)


async def test_step_output__an_int_past_the_double_range_fails_the_run_for_good(
    client: Client, address: str, ns: str
) -> None:
    @workflow(name="huge")
    async def flow(ctx: WorkflowContext, _: Any) -> int:
        result: int = await ctx.step.run("huge", lambda: 10**400)
        return result

    async with running(address, ns, [flow]):
        run = await client.start("huge")
        final = await client.wait(run.run_id, timeout=20)

    assert final.status is RunStatus.FAILED and final.attempt == 1
    assert final.error is not None and final.error.type == "NotSerializableError"


async def test_sleep_until__a_naive_datetime_fails_the_run_for_good(
    client: Client, address: str, ns: str
) -> None:
    @workflow(name="naive")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        await ctx.step.sleep_until("nap", datetime.now() + timedelta(seconds=1))

    async with running(address, ns, [flow]):
        run = await client.start("naive")
        final = await client.wait(run.run_id, timeout=20)

    assert final.status is RunStatus.FAILED and final.attempt == 1
    assert final.error is not None and "timezone-aware" in final.error.message


async def test_step_id__recorded_as_a_sleep_is_not_run_as_a_function(
    client: Client, address: str, ns: str
) -> None:
    executions: list[str] = []
    ran: list[str] = []

    def side_effect() -> str:
        ran.append("ran")
        return "done"

    @workflow(name="changed")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        executions.append("x")
        if len(executions) == 1:  # the "old code": a sleep under this id
            await ctx.step.sleep("nap", timedelta(milliseconds=50))
        result: str = await ctx.step.run("nap", side_effect)  # the "new code"
        return result

    async with running(address, ns, [flow]):
        run = await client.start("changed")
        final = await client.wait(run.run_id, timeout=20)

    assert final.status is RunStatus.FAILED and ran == []
    assert final.error is not None and "recorded as a sleep step" in final.error.message


async def test_wait__rides_out_a_server_restart(
    tmp_path: Path, ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = sqlite_url_for(tmp_path / "stepline.db")
    api = await start_api(url)
    address = api.server.address
    caplog.set_level(logging.WARNING, logger="stepline.client")
    async with Client(address, namespace=ns) as client:
        run = await client.start("restarted")
        await stop_api(api)
        waiting = asyncio.create_task(client.wait(run.run_id, timeout=30))
        await eventually(lambda: "server unavailable" in caplog.text)
        api = await start_api(url, grpc_address=address)
        try:
            await eventually(lambda: _cancel(client, run.run_id))
            final = await waiting
        finally:
            await stop_api(api)

    assert final.status is RunStatus.CANCELED


async def _cancel(client: Client, run_id: str) -> bool:
    """Cancel, once the client's connection is back (gRPC reconnects with a backoff)."""
    try:
        await client.cancel(run_id, reason="done waiting")
    except ServerUnavailable:
        return False
    return True
