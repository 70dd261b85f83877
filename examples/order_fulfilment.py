"""Order fulfilment, the stepline SDK's showcase workflow.

charge the card → cool off (a durable sleep) → reserve stock, which fails on the run's
first attempt (the run is retried, and the card is not charged twice) → ship.

With a server on 127.0.0.1:50051 (`make run`), run a worker and start an order:

    stepline worker --app examples.order_fulfilment:workflows
    stepline runs start order.fulfil --input '{"id": 42, "amount": 30}' --wait

or both in one process: `python -m examples.order_fulfilment`.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

from stepline import Client, NonRetryableError, Worker, WorkflowContext, workflow


def charge_card(order: dict[str, Any]) -> dict[str, Any]:
    if order.get("card") == "declined":
        raise NonRetryableError("card declined")  # fails the run for good: no retry
    return {"charge_id": f"ch_{order['id']}", "amount": order.get("amount", 0)}


def reserve_stock(order: dict[str, Any], run_attempt: int) -> str:
    if run_attempt == 1:
        raise ConnectionError("warehouse busy")  # the run is retried after a backoff
    return f"bin-{order['id'] % 7}"


async def ship(order: dict[str, Any], bin_id: str) -> str:
    if order.get("address") == "unknown":
        # Fails the run for good, after the card was charged: fix the order and replay the
        # run from "ship" (`stepline runs replay RUN --from-step ship --input …`).
        raise NonRetryableError("no such address: unknown")
    return f"TRACK-{order['id']}-{bin_id}"


@workflow(name="order.fulfil", version="1")
async def fulfil(ctx: WorkflowContext, order: dict[str, Any]) -> dict[str, Any]:
    charge = await ctx.step.run("charge", charge_card, order)
    cool_off = timedelta(seconds=order.get("cool_off_seconds", 2))
    await ctx.step.sleep("cool-off", cool_off)  # durable: survives worker and server restarts
    bin_id = await ctx.step.run("reserve-stock", reserve_stock, order, ctx.attempt)
    tracking = await ctx.step.run("ship", ship, order, bin_id)
    return {"order": order["id"], "charge": charge["charge_id"], "tracking": tracking}


# `stepline worker --app examples.order_fulfilment:workflows` runs these.
workflows = [fulfil]


async def main(address: str) -> None:
    """Run a worker and one order in this process, and print the order's result."""
    worker = Worker(address, workflows=workflows)
    running = asyncio.create_task(worker.run())
    async with Client(address) as client:
        run = await client.start("order.fulfil", {"id": 42, "amount": 30})
        print(await client.result(run.run_id))
    await worker.shutdown()
    await running


if __name__ == "__main__":
    asyncio.run(main(os.environ.get("STEPLINE_ADDRESS", "127.0.0.1:50051")))
