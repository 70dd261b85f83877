"""Workflows for the dashboard's browser tests, run by a `stepline worker` process."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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


workflows = [ui_steps, ui_nap, ui_parent, ui_waiter]
