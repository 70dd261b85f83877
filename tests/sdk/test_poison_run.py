"""A poison run through real worker processes: a workflow that SIGKILLs its own worker
fails with WORKER_CRASHED after max_crashes claims, while the other runs on the same
(restarted) workers complete."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from stepline import Client, RunStatus, WorkflowNotFound
from tests.services.conftest import BACKENDS, Api, database_url, start_api, stop_api

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2


@pytest_asyncio.fixture(params=BACKENDS)
async def crash_api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    started = await start_api(
        database_url(request, request.param, "poison"),
        lease_duration=timedelta(milliseconds=500),
        max_crashes=3,
    )
    try:
        yield started
    finally:
        await stop_api(started)


async def _spawn(address: str, ns: str, *options: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.sdk.poison_app",
        address,
        ns,
        *options,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@contextlib.asynccontextmanager
async def supervised(
    address: str, ns: str, deaths: list[int], *options: str
) -> AsyncIterator[None]:
    """WORKERS worker processes, each restarted when it dies (as a process manager
    would); `deaths` collects the exit codes of the dead."""
    stopping = asyncio.Event()

    async def keep_one() -> None:
        while not stopping.is_set():
            process = await _spawn(address, ns, *options)
            try:
                deaths.append(await process.wait())
            except asyncio.CancelledError:
                process.kill()
                await process.wait()
                raise

    keepers = [asyncio.create_task(keep_one()) for _ in range(WORKERS)]
    try:
        yield
    finally:
        stopping.set()
        for keeper in keepers:
            keeper.cancel()
        await asyncio.gather(*keepers, return_exceptions=True)


async def test_poison_run__fails_after_max_crashes_while_other_runs_complete(
    crash_api: Api, ns: str
) -> None:
    deaths: list[int] = []
    async with Client(crash_api.server.address, namespace=ns) as client:
        poison = await client.start("poison")
        fine = [await client.start("fine", n) for n in range(6)]
        async with supervised(crash_api.server.address, ns, deaths):
            failed = await client.wait(poison.run_id, timeout=60)
            for n, run in enumerate(fine):
                assert await client.result(run.run_id, timeout=60) == n * 2
    assert failed.status is RunStatus.FAILED and failed.crash_count == 3
    assert failed.error is not None and failed.error.type == "WORKER_CRASHED"
    # Each of the 3 claims killed a worker; none after the run failed.
    assert deaths.count(-signal.SIGKILL) == 3


async def _paused(client: Client, name: str) -> dict[str, Any]:
    """The workflow once it is paused (the test's own timeout bounds the wait)."""
    while True:
        with contextlib.suppress(WorkflowNotFound):  # no worker registered it yet
            workflow = await client.get_workflow(name)
            if workflow.get("paused"):
                return workflow
        await asyncio.sleep(0.1)


async def test_poison_run__on_poison_pause_pauses_the_workflow_and_resume_counts_afresh(
    crash_api: Api, ns: str
) -> None:
    deaths: list[int] = []
    async with Client(crash_api.server.address, namespace=ns) as client:
        poison = await client.start("poison")
        fine = [await client.start("fine", n) for n in range(6)]
        async with supervised(crash_api.server.address, ns, deaths, "pause"):
            workflow = await asyncio.wait_for(_paused(client, "poison"), 60)
            for n, run in enumerate(fine):
                assert await client.result(run.run_id, timeout=60) == n * 2
            # The definition's max_crashes (2), not the server's (3).
            assert deaths.count(-signal.SIGKILL) == 2
            waiting = await client.get(poison.run_id)
            assert waiting.status is RunStatus.PENDING and waiting.crash_count == 2
            assert poison.run_id in workflow["pausedReason"]
            (version,) = workflow["versions"]
            assert version["maxCrashes"] == 2 and version["onPoison"] == "POISON_ACTION_PAUSE"
            # Resumed (say, after a fix that did not come): the run gets a fresh count,
            # so 2 more claims (2 more deaths, not 1) until it is paused again.
            resumed = await client.resume_workflow("poison")
            assert not resumed.get("paused")
            await asyncio.wait_for(_paused(client, "poison"), 60)
        again = await client.get(poison.run_id)
    assert again.status is RunStatus.PENDING and again.crash_count == 2
    assert deaths.count(-signal.SIGKILL) == 4
