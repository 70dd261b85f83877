"""Writes the server refuses (a result, failure or step output over its payload limit)
end the run FAILED for good instead of crashing the execution at every reclaim, and a
refused step output cannot be caught by workflow code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from stepline import Client, NonRetryableError, RunStatus, WorkflowContext, workflow
from tests.conftest import sqlite_url_for
from tests.sdk.conftest import running
from tests.services.conftest import Api, start_api, stop_api

LIMIT = 1024
TOO_BIG = "x" * (4 * LIMIT)


@pytest_asyncio.fixture(scope="module")
async def small_api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    """A server that refuses payloads over 1 KiB (the smallest limit it allows)."""
    url = sqlite_url_for(tmp_path_factory.mktemp("small") / "stepline.db")
    started = await start_api(url, lease_duration=timedelta(seconds=1), max_payload_bytes=LIMIT)
    try:
        yield started
    finally:
        await stop_api(started)


@pytest_asyncio.fixture
async def small(small_api: Api, ns: str) -> AsyncIterator[Client]:
    async with Client(small_api.server.address, namespace=ns) as opened:
        yield opened


async def _final(client: Client, flow: Any, address: str, ns: str) -> Any:
    async with running(address, ns, [flow]):
        run = await client.start(flow.name)
        return await client.wait(run.run_id, timeout=20)


async def test_result_over_the_limit__fails_the_run_for_good(
    small: Client, small_api: Api, ns: str
) -> None:
    @workflow(name="big-result")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        return TOO_BIG

    final = await _final(small, flow, small_api.server.address, ns)

    assert final.status is RunStatus.FAILED and final.attempt == 1
    assert final.error.non_retryable
    assert "refused the result of workflow 'big-result'" in final.error.message


async def test_failure_details_over_the_limit__fail_the_run_without_them(
    small: Client, small_api: Api, ns: str
) -> None:
    @workflow(name="big-details")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        raise NonRetryableError("card declined", details={"dump": TOO_BIG})

    final = await _final(small, flow, small_api.server.address, ns)

    assert final.status is RunStatus.FAILED
    assert final.error.message == "card declined" and final.error.details is None


async def test_step_output_over_the_limit__cannot_be_caught_by_the_workflow(
    small: Client, small_api: Api, ns: str
) -> None:
    @workflow(name="big-step")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        try:
            return await ctx.step.run("big", lambda: TOO_BIG)
        except Exception:
            return "caught"

    final = await _final(small, flow, small_api.server.address, ns)

    assert final.status is RunStatus.FAILED and final.output is None
    steps = await small.steps(final.run_id)
    assert [(s.step_id, s.status) for s in steps] == [("big", "FAILED")]
    error = steps[0].error
    assert error is not None and "refused the output of step 'big'" in error.message
