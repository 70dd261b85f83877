"""Workflows for the dashboard's browser tests, run by a `stepline worker` process."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from stepline import WorkflowContext, workflow


def _double(value: int) -> int:
    return value * 2


@workflow(name="ui-steps")
async def ui_steps(ctx: WorkflowContext, job: dict[str, Any]) -> dict[str, int]:
    """Three quick steps: a timeline to look at and a run to replay from a step."""
    fetched = await ctx.step.run("fetch", _double, int(job.get("n", 1)))
    shaped = await ctx.step.run("transform", _double, fetched)
    stored = await ctx.step.run("store", _double, shaped)
    return {"fetched": fetched, "stored": stored}


@workflow(name="ui-nap")
async def ui_nap(ctx: WorkflowContext, job: dict[str, Any]) -> str:
    """One step, then a sleep of an hour: a SLEEPING run to cancel."""
    await ctx.step.run("prepare", _double, 1)
    await ctx.step.sleep("nap", timedelta(hours=1))
    return "woke"


@workflow(name="ui-parent")
async def ui_parent(ctx: WorkflowContext, job: dict[str, Any]) -> dict[str, Any]:
    """Starts a ui-steps child run and returns its output: a parent and a child."""
    child = await ctx.step.invoke("child", ui_steps, {"n": 2})
    return {"child": child}


@workflow(name="ui-waiter")
async def ui_waiter(ctx: WorkflowContext, job: dict[str, Any]) -> dict[str, Any]:
    """Waits for a signal, then for an event about its order: a WAITING run twice."""
    approval = await ctx.step.wait_for_signal("approval", "approve", timeout=timedelta(hours=1))
    paid = await ctx.step.wait_for_event(
        "payment", "payment.received", match={"order": job["order"]}, timeout=timedelta(hours=1)
    )
    return {"approval": approval, "paid": paid is not None}


class Address(BaseModel):
    city: str
    zip_code: str | None = None


class Line(BaseModel):
    sku: str
    qty: int = Field(ge=1)


class Order(BaseModel):
    """A typed input: its JSON Schema (pydantic's, with $refs, an enum, arrays of strings
    and of objects, and a free-form object) is what the dashboard's start form is
    generated from."""

    customer: str = Field(description="Who ordered")
    quantity: int = Field(ge=1, le=100)
    express: bool = False
    size: Literal["S", "M", "L"] = "M"
    address: Address
    tags: list[str] = []
    lines: list[Line] = []
    notes: dict[str, Any] | None = None


def _price(quantity: int, express: bool) -> int:
    return quantity * 10 + (5 if express else 0)


@workflow(name="ui-order")
async def ui_order(ctx: WorkflowContext, order: Order) -> dict[str, Any]:
    """One step priced from the typed input; returns what the form sent, as it arrived."""
    total = await ctx.step.run("price", _price, order.quantity, order.express)
    return {"order": order.model_dump(), "total": total}


@workflow(name="ui-pausable")
async def ui_pausable(ctx: WorkflowContext, job: dict[str, Any]) -> int:
    """One step; its own name, so pausing it in a test stops no other test's runs."""
    return await ctx.step.run("once", _double, 21)


workflows = [ui_steps, ui_nap, ui_parent, ui_waiter, ui_order, ui_pausable]
