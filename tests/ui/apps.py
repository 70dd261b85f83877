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


workflows = [ui_steps, ui_nap]
