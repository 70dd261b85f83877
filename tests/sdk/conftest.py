"""A real stepline server per backend (in-process, loopback port, 1 s leases so that
reclaims are quick), a namespace per test, and helpers to run SDK workers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from stepline import Client, Worker
from stepline._workflow import AnyWorkflow
from tests.services.conftest import BACKENDS, Api, database_url, start_api, stop_api
from tests.support import namespaces

LEASE = timedelta(seconds=1)


@pytest_asyncio.fixture(scope="session", params=BACKENDS)
async def sdk_api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    """A server whose leases last 1 s: heartbeats keep live runs, reclaims come quickly."""
    started = await start_api(database_url(request, request.param, "sdk"), lease_duration=LEASE)
    try:
        yield started
    finally:
        await stop_api(started)


@pytest.fixture
def address(sdk_api: Api) -> str:
    return sdk_api.server.address


@pytest_asyncio.fixture
async def ns() -> str:
    return await namespaces.new_namespace("sdk")


@pytest_asyncio.fixture
async def client(address: str, ns: str) -> AsyncIterator[Client]:
    async with Client(address, namespace=ns) as opened:
        yield opened


@contextlib.asynccontextmanager
async def running(
    address: str, ns: str, workflows: Sequence[AnyWorkflow], **options: Any
) -> AsyncIterator[Worker]:
    """A Worker serving in the background for the block, shut down gracefully after."""
    options.setdefault("poll_wait", 5.0)
    options.setdefault("shutdown_grace", 5.0)
    worker = Worker(address, namespace=ns, workflows=workflows, **options)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await worker.shutdown()
        await task


async def eventually(predicate: Any, within: float = 20.0, interval: float = 0.02) -> None:
    """Wait until `predicate()` (sync or async) is true; fail after `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            outcome = predicate()
            if asyncio.iscoroutine(outcome):
                outcome = await outcome
            if outcome:
                return
            await asyncio.sleep(interval)
