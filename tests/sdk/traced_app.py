"""A traced process for tests/sdk/test_tracing.py, exporting over OTLP to the test's
receiver (tracing is set up from the OTEL_* variables the test passes):

- `python -m tests.sdk.traced_app worker ADDRESS NAMESPACE [EXECUTIONS]` serves the
  workflows below until SIGTERM (or until EXECUTIONS executions ended; shutdown grace
  $TRACED_APP_GRACE seconds, default 30), logging JSON lines to stderr;
- `python -m tests.sdk.traced_app client ADDRESS NAMESPACE` starts a run with Client and
  reads it back with SyncClient, both under a span "caller", and prints the run id and
  the caller span's ids as JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from datetime import timedelta
from typing import Any

from stepline import (
    Client,
    NonRetryableError,
    SyncClient,
    Worker,
    WorkflowContext,
    tracing,
    workflow,
)
from stepline.logs import JsonFormatter

USER_LOGGER = "traced.user"
# Metadata of the caller's own, which the tracing interceptors must keep.
METADATA = (("x-traced-app", "1"),)


def _user_step(payload: Any) -> str:
    """A sync step (on a thread of its own) with a span and a log line of its own."""
    with tracing.tracer().start_as_current_span("user work"):
        logging.getLogger(USER_LOGGER).info("working on %s", payload)
    return f"a:{payload}"


async def _async_step(value: str) -> str:
    return f"b:{value}"


def _boom() -> None:
    raise NonRetryableError("boom")


def _same(value: Any) -> Any:
    return value


@workflow(name="traced.steps")
async def steps(ctx: WorkflowContext, payload: Any) -> str:
    a = await ctx.step.run("a", _user_step, payload)
    return await ctx.step.run("b", _async_step, a)


@workflow(name="traced.fails")
async def fails(ctx: WorkflowContext, payload: Any) -> None:
    await ctx.step.run("explode", _boom)


@workflow(name="traced.raises")
async def raises(ctx: WorkflowContext, payload: Any) -> None:
    raise NonRetryableError("the workflow itself gives up")


async def _wait(seconds: float) -> None:
    await asyncio.sleep(seconds)


@workflow(name="traced.waits")
async def waits(ctx: WorkflowContext, seconds: float) -> None:
    await ctx.step.run("wait", _wait, seconds)


@workflow(name="traced.sleeps")
async def sleeps(ctx: WorkflowContext, seconds: float) -> Any:
    await ctx.step.run("before", _same, 1)
    await ctx.step.sleep("nap", timedelta(seconds=seconds))
    return await ctx.step.run("after", _same, 2)


async def serve(address: str, namespace: str, executions: int | None) -> None:
    worker = Worker(
        address,
        namespace=namespace,
        workflows=[steps, fails, raises, waits, sleeps],
        poll_wait=5.0,
        metadata=METADATA,
        shutdown_grace=float(os.environ.get("TRACED_APP_GRACE", "30")),
    )
    if executions is None:
        await worker.run()
        return
    running = asyncio.create_task(worker.run())
    await worker.wait_for_ended(executions)
    await worker.shutdown()
    await running


async def _start(address: str, namespace: str) -> str:
    async with Client(address, namespace=namespace, metadata=METADATA) as client:
        return (await client.start("traced.steps", "from a client")).run_id


def call(address: str, namespace: str) -> None:
    with tracing.tracer().start_as_current_span("caller") as caller:
        run_id = asyncio.run(_start(address, namespace))
        with SyncClient(address, namespace=namespace, metadata=METADATA) as client:
            client.get(run_id)
    ids = caller.get_span_context()
    caller_ids = {"trace_id": f"{ids.trace_id:032x}", "span_id": f"{ids.span_id:016x}"}
    print(json.dumps({"run_id": run_id, **caller_ids}))


def main() -> None:
    mode, address, namespace, *rest = sys.argv[1:]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    if not tracing.configure_from_env(f"traced-{mode}"):
        raise SystemExit("tracing is off: the test must pass the receiver's OTEL_* variables")
    try:
        if mode == "worker":
            asyncio.run(serve(address, namespace, int(rest[0]) if rest else None))
        else:
            call(address, namespace)
    finally:
        tracing.shutdown()


if __name__ == "__main__":
    main()
