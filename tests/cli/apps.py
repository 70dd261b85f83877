"""Workflows for the CLI's worker tests: `stepline worker --app tests.cli.apps:workflows`."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from stepline import NonRetryableError, Worker, WorkflowContext, workflow


@workflow(name="cli.echo")
async def echo(ctx: WorkflowContext, payload: Any) -> Any:
    return await ctx.step.run("echo", _same, payload)


@workflow(name="cli.boom")
async def boom(ctx: WorkflowContext, payload: Any) -> Any:
    raise NonRetryableError(f"boom: {payload}")


@workflow(name="cli.step_boom")
async def step_boom(ctx: WorkflowContext, payload: Any) -> Any:
    ctx.log.info("about to explode")
    return await ctx.step.run("explode", _explode, payload)


@workflow(name="cli.slow")
async def slow(ctx: WorkflowContext, seconds: float) -> str:
    return await ctx.step.run("nap", _nap, seconds)


def _same(payload: Any) -> Any:
    return payload


def _explode(payload: Any) -> Any:
    raise NonRetryableError(f"step boom: {payload}")


async def _nap(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "rested"


workflows = [echo, boom, step_boom, slow]
not_a_workflow = 42

# A ready-made Worker: `stepline worker --app tests.cli.apps:worker` runs it as it is.
worker = Worker(
    os.environ.get("STEPLINE_ADDRESS", "127.0.0.1:50051"),
    task_queue=os.environ.get("CLI_TEST_QUEUE", "cli-worker"),
    workflows=[echo],
    concurrency=2,
)
