"""@workflow(max_concurrency=…, max_concurrency_per_key=…, priority=…) through a real
server: the worker registers them, the server enforces the limits and gives the
definition's priority to runs started without one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stepline import Client, WorkflowContext, workflow
from tests.sdk.conftest import eventually, running


async def test_limits__a_key_runs_one_at_a_time_on_a_worker_that_would_take_more(
    client: Client, address: str, ns: str
) -> None:
    running_now: set[str] = set()
    overlaps: list[set[str]] = []
    gate = asyncio.Event()

    @workflow(name="per-customer", max_concurrency_per_key=1, priority=2)
    async def per_customer(ctx: WorkflowContext, label: str) -> str:
        running_now.add(label)
        overlaps.append(set(running_now))
        await gate.wait()  # not a step: the run holds its slot until the gate opens
        running_now.discard(label)
        return label

    async with running(address, ns, [per_customer], concurrency=10):
        await eventually(lambda: _registered(client))
        first = await client.start("per-customer", "a1", concurrency_key="a")
        second = await client.start("per-customer", "a2", concurrency_key="a")
        other = await client.start("per-customer", "b1", concurrency_key="b")
        await eventually(lambda: running_now == {"a1", "b1"})
        assert (await client.get(second.run_id)).status.name == "PENDING"
        gate.set()
        results = [await client.result(r.run_id, timeout=20) for r in (first, second, other)]
    assert results == ["a1", "a2", "b1"]
    assert all(not {"a1", "a2"} <= seen for seen in overlaps)
    assert first.priority == 2  # the definition's, as none was given at start
    workflow_info = await client.get_workflow("per-customer")
    assert workflow_info["maxConcurrencyPerKey"] == 1


async def _registered(client: Client) -> bool:
    return bool(await client.list_workers())


@pytest.mark.parametrize(
    "options",
    [{"max_concurrency": -1}, {"max_concurrency_per_key": 1.5}, {"priority": 6}],
)
def test_workflow__refuses_bad_limits_and_priorities(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        workflow(name="bad", **options)
