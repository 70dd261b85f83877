"""The Client's and SyncClient's registry calls against a real server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stepline import Client, SyncClient, WorkflowContext, WorkflowNotFound, workflow
from tests.sdk.conftest import eventually, running


async def test_client__lists_the_worker_and_workflow_a_worker_registered(
    client: Client, address: str, ns: str
) -> None:
    @workflow(name="listed", version="5", on_event="thing.done", match={"kind": "a"})
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        return None

    async with running(address, ns, [flow], worker_id="lister"):
        await eventually(lambda: _has_workers(client))
        (worker,) = await client.list_workers()
        assert worker["workerId"] == "lister" and worker["online"] is True
        assert worker["workflows"] == [{"workflowName": "listed", "version": "5"}]
        (listed,) = await client.list_workflows()
        assert listed["triggers"] == [{"eventName": "thing.done", "match": {"kind": "a"}}]
    with pytest.raises(WorkflowNotFound):
        await client.get_workflow("never")


async def test_sync_client__pauses_and_resumes(address: str, ns: str) -> None:
    def calls() -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        with SyncClient(address, namespace=ns) as sync:
            paused = sync.pause_workflow("later", "not yet")
            resumed = sync.resume_workflow("later")
            return paused, resumed, sync.list_workflows()

    paused, resumed, listed = await asyncio.to_thread(calls)
    assert paused["paused"] is True and paused["pausedReason"] == "not yet"
    assert "paused" not in resumed
    assert [w["workflowName"] for w in listed] == ["later"]


async def _has_workers(client: Client) -> bool:
    return bool(await client.list_workers())
