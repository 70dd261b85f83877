"""User code written against the SDK, kept here so that `mypy --strict` (which covers
tests/) checks the SDK's types as a user sees them: step results take the type of the
step function's result, and step arguments are checked against its signature.
tests/sdk/test_typing.py also checks that misuse is reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, assert_type

from stepline import (
    Client,
    RetryPolicy,
    Run,
    RunFailed,
    RunStatus,
    Step,
    SyncClient,
    Worker,
    Workflow,
    WorkflowContext,
    workflow,
)


def charge_card(order: dict[str, Any], *, amount: int) -> str:
    return f"charged {amount} for {order['id']}"


async def reserve(sku: str, quantity: int = 1) -> list[str]:
    return [sku] * quantity


@workflow(name="order.fulfil", version="1")
async def fulfil(ctx: WorkflowContext, order: dict[str, Any]) -> dict[str, Any]:
    charge = await ctx.step.run("charge", charge_card, order, amount=10)
    assert_type(charge, str)
    items = await ctx.step.run("reserve", reserve, "sku-1", quantity=2)
    assert_type(items, list[str])
    retried = await ctx.step.run(
        "reserve-again", reserve, "sku-2", retry=RetryPolicy(maximum_attempts=3)
    )
    assert_type(retried, list[str])
    await ctx.step.sleep("cool-off", timedelta(hours=1))
    await ctx.step.sleep_until("tomorrow", datetime.now(UTC) + timedelta(days=1))
    ctx.log.info("fulfilled", extra={"items": len(items)})
    return {"charge": charge, "items": items, "run": ctx.run_id, "attempt": ctx.attempt}


assert_type(fulfil, Workflow[dict[str, Any], dict[str, Any]])


async def client_code() -> None:
    async with Client("127.0.0.1:50051", namespace="default") as client:
        run = await client.start("order.fulfil", {"id": 1}, idempotency_key="order-1")
        assert_type(run, Run)
        try:
            result = await client.result(run.run_id, timeout=60)
        except RunFailed as failed:
            print(failed.failure.type if failed.failure else "unknown")
        else:
            print(result)
        async for listed in client.list(statuses=[RunStatus.COMPLETED, "failed"]):
            assert_type(listed.status, RunStatus)
        steps = await client.steps(run.run_id)
        assert_type(steps, list[Step])


def script_code() -> None:
    with SyncClient() as client:
        run = client.start("order.fulfil", {"id": 2})
        for listed in client.list(workflow_name="order.fulfil"):
            assert_type(listed, Run)
        print(client.result(run.run_id))


async def worker_code() -> None:
    await Worker("127.0.0.1:50051", workflows=[fulfil], concurrency=10).run()
