"""Runs that wait: a child run per item (fan-out, fan-in), a human approval (a signal),
and an order that waits for its payment (an event) — each parks the run with no worker
busy until what it waits for arrives.

With a server on 127.0.0.1:50051 (`make run`), from the repository root:

    stepline worker --app examples.waits:workflows                               # terminal 1
    stepline runs start invoices.charge --input '[10, 20, -5]' --wait           # children
    stepline runs start expense.approve --input '{"amount": 120}'               # a signal
    stepline runs signal <RUN_ID> approval --payload '{"approved": true, "by": "ann"}'
    stepline runs start order.pay --input '{"id": "o-7"}'                       # an event
    stepline events send payment.received --data '{"order_id": "o-7", "amount": 30}'
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from stepline import ChildRunFailed, NonRetryableError, WorkflowContext, workflow


async def charge_card(amount: int) -> str:
    if amount <= 0:
        raise NonRetryableError(f"cannot charge {amount}")
    return f"ch_{amount}"


@workflow(name="invoice.charge")
async def charge_one(ctx: WorkflowContext, amount: int) -> str:
    return await ctx.step.run("charge", charge_card, amount)


@workflow(name="invoices.charge")
async def charge_all(ctx: WorkflowContext, amounts: list[int]) -> dict[str, Any]:
    """One child run per invoice, all at once: the run parks once, until every child ended."""

    async def one(n: int, amount: int) -> str:
        try:
            return await ctx.step.invoke(f"invoice-{n}", charge_one, amount)
        except ChildRunFailed as failed:  # a failed child is the parent's to handle
            return f"failed: {failed.failure.message}"

    charges = await asyncio.gather(*(one(n, amount) for n, amount in enumerate(amounts)))
    return {"charges": charges}


@workflow(name="expense.approve")
async def approve(ctx: WorkflowContext, expense: dict[str, Any]) -> dict[str, Any]:
    """Waits up to three days for a person's decision, sent as the signal "approval"."""
    decision = await ctx.step.wait_for_signal("decision", "approval", timeout=timedelta(days=3))
    if decision is None:
        return {"status": "expired"}
    return {"status": "approved" if decision.get("approved") else "rejected", **decision}


@workflow(name="order.pay")
async def pay(ctx: WorkflowContext, order: dict[str, Any]) -> dict[str, Any]:
    """Waits up to an hour for the payment event of this very order."""
    paid = await ctx.step.wait_for_event(
        "payment",
        "payment.received",
        match={"order_id": order["id"]},
        timeout=timedelta(seconds=order.get("pay_within_seconds", 3600)),
    )
    if paid is None:
        return {"order": order["id"], "status": "expired"}
    return {"order": order["id"], "status": "paid", "amount": paid.data.get("amount")}


# `stepline worker --app examples.waits:workflows` runs these.
workflows = [charge_all, charge_one, approve, pay]
