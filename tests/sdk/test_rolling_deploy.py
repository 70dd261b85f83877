"""A rolling deploy through real workers: v1 runs, v2 starts, new runs pin v2 and go to
v2 only, v1's runs in flight finish on v1, and with v1 stopped a v1 run waits; nothing is
ever claimed by the wrong version."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stepline import Client, RunStatus, WorkflowContext, workflow
from tests.sdk.conftest import eventually, running


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "poll"])
async def test_rolling_deploy__each_version_runs_only_on_its_own_workers(
    client: Client, address: str, ns: str, stream: bool
) -> None:
    in_v1 = asyncio.Semaphore(0)
    release_v1 = asyncio.Event()

    @workflow(name="deploy", version="1")
    async def v1(ctx: WorkflowContext, _: Any) -> dict[str, str]:
        in_v1.release()
        await release_v1.wait()
        return {"ran": "1"}

    @workflow(name="deploy", version="2")
    async def v2(ctx: WorkflowContext, _: Any) -> dict[str, str]:
        return {"ran": "2"}

    options: dict[str, Any] = {"stream": stream, "poll_wait": 1.0}
    async with running(address, ns, [v1], worker_id="worker-v1", **options):
        await eventually(lambda: _newest(client, "1"))
        old = [await client.start("deploy") for _ in range(2)]
        assert {run.version for run in old} == {"1"}
        for _ in old:
            await asyncio.wait_for(in_v1.acquire(), 20)

        async with running(address, ns, [v2], worker_id="worker-v2", **options):
            await eventually(lambda: _newest(client, "2"))
            new = [await client.start("deploy") for _ in range(3)]
            assert {run.version for run in new} == {"2"}
            for run in new:
                done = await client.wait(run.run_id, timeout=20)
                assert (done.output, done.worker_id) == ({"ran": "2"}, "worker-v2")
            release_v1.set()
            for run in old:
                done = await client.wait(run.run_id, timeout=20)
                assert (done.output, done.worker_id) == ({"ran": "1"}, "worker-v1")

    # v1 is gone: a run of v1 waits, never claimed by v2's worker.
    async with running(address, ns, [v2], worker_id="worker-v2b", **options):
        stranded = await client.start("deploy", version="1")
        await asyncio.sleep(1.5)
        assert (await client.get(stranded.run_id)).status is RunStatus.PENDING
        workflow_info = await client.get_workflow("deploy")
        by_version = {v.get("version", ""): v for v in workflow_info["versions"]}
        pending = {"status": "WORKFLOW_RUN_STATUS_PENDING", "count": "1"}
        assert pending in by_version["1"]["runCounts"]
        await client.cancel(stranded.run_id)


async def _newest(client: Client, version: str) -> bool:
    try:
        info = await client.get_workflow("deploy")
    except Exception:
        return False
    return bool(info["versions"]) and info["versions"][0].get("version") == version
