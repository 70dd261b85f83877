"""Event triggers end to end: a worker registers an `on_event` workflow; SendEvent starts
one run of it per matching event, on the worker's task queue, and the worker completes
it. A non-matching event and a repeated event start nothing. Both backends."""

from __future__ import annotations

from typing import Any

from stepline import Client, RunStatus, WorkflowContext, workflow
from tests.sdk.conftest import eventually, running


@workflow(name="ship-order", on_event="order.paid", match={"region": "eu"})
async def ship_order(ctx: WorkflowContext, order: dict[str, Any]) -> dict[str, Any]:
    return {"shipped": order["order_id"]}


async def _registered(client: Client) -> bool:
    return bool(await client.list_workers())


async def test_send_event__starts_a_run_of_each_matching_trigger_once(
    client: Client, address: str, ns: str
) -> None:
    async with running(address, ns, [ship_order], task_queue="shipping"):
        await eventually(lambda: _registered(client))
        sent = await client.send_event(
            "order.paid", {"order_id": "o-1", "region": "eu"}, idempotency_key="pay-o-1"
        )
        assert sent.existing is False and len(sent.started_run_ids) == 1
        (run_id,) = sent.started_run_ids
        assert await client.result(run_id, timeout=30) == {"shipped": "o-1"}

        run = await client.get(run_id)
        assert run.workflow_name == "ship-order" and run.task_queue == "shipping"
        assert run.status is RunStatus.COMPLETED
        runs = await client.event_runs(sent.event.event_id)
        assert list(runs.started_run_ids) == [run_id] and not runs.resumed_run_ids

        again = await client.send_event(
            "order.paid", {"order_id": "o-1", "region": "eu"}, idempotency_key="pay-o-1"
        )
        assert again.existing is True and not again.started_run_ids

        elsewhere = await client.send_event("order.paid", {"order_id": "o-2", "region": "us"})
        other_name = await client.send_event("order.refunded", {"region": "eu"})
        assert not elsewhere.started_run_ids and not other_name.started_run_ids
        assert [r.run_id async for r in client.list(workflow_name="ship-order")] == [run_id]
