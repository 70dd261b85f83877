"""A sleep that outlives a server restart: the server stops while the run sleeps, a new
server starts on the same database and address, and the worker reconnects by itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from stepline import Client, RunStatus, WorkflowContext, workflow
from tests.sdk.conftest import LEASE, eventually, running
from tests.services.conftest import BACKENDS, database_url, start_api, stop_api

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", BACKENDS)
async def test_sleep__outlives_a_server_restart_and_resumes_after_it(
    request: pytest.FixtureRequest, backend: str, ns: str
) -> None:
    url = database_url(request, backend, "restart")
    calls: list[str] = []

    @workflow(name="sleeper")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        await ctx.step.run("before", calls.append, "before")
        await ctx.step.sleep("overnight", timedelta(seconds=1.5))
        await ctx.step.run("after", calls.append, "after")
        return "rested"

    api = await start_api(url, lease_duration=LEASE)
    address = api.server.address
    try:
        async with running(address, ns, [flow]):
            async with Client(address, namespace=ns) as client:
                run = await client.start("sleeper")
                await eventually(lambda: _is_sleeping(client, run.run_id))
            await stop_api(api)
            api = await start_api(url, grpc_address=address, lease_duration=LEASE)
            async with Client(address, namespace=ns) as client:
                assert await client.result(run.run_id, timeout=30) == "rested"
                final = await client.get(run.run_id)
                steps = [(s.step_id, s.status) for s in await client.steps(run.run_id)]
    finally:
        await stop_api(api)

    assert final.status is RunStatus.COMPLETED and final.attempt == 1
    assert calls == ["before", "after"]
    assert steps == [("before", "COMPLETED"), ("overnight", "COMPLETED"), ("after", "COMPLETED")]


async def _is_sleeping(client: Client, run_id: str) -> bool:
    return (await client.get(run_id)).status is RunStatus.SLEEPING
