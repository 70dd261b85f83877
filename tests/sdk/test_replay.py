"""Deterministic re-execution: completed steps return their recorded output without
running again, the first unfinished step runs, and misuse fails the run clearly."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from stepline import (
    Client,
    NonRetryableError,
    RetryPolicy,
    Run,
    RunStatus,
    WorkflowContext,
    workflow,
)
from tests.sdk.conftest import running

QUICK_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=50), maximum_attempts=3)


async def _run_to_end(
    client: Client, address: str, ns: str, flow: Any, data: Any = None, **start: Any
) -> Run:
    async with running(address, ns, [flow]):
        run = await client.start(flow.name, data, **start)
        return await client.wait(run.run_id, timeout=30)


async def test_replay__completed_steps_are_not_rerun_after_a_retry(
    client: Client, address: str, ns: str
) -> None:
    calls: list[str] = []

    def charge(order: int) -> dict[str, Any]:
        calls.append("charge")
        return {"charged": order, "at": "t1"}

    def ship(charge: dict[str, Any]) -> str:
        calls.append("ship")
        if calls.count("ship") == 1:
            raise ConnectionError("carrier down")
        return f"shipped {charge['charged']}"

    @workflow(name="replay")
    async def flow(ctx: WorkflowContext, order: int) -> dict[str, Any]:
        charged = await ctx.step.run("charge", charge, order)
        shipped = await ctx.step.run("ship", ship, charged)
        return {"charge": charged, "ship": shipped, "attempt": ctx.attempt}

    run = await _run_to_end(client, address, ns, flow, 7, retry_policy=QUICK_RETRY)

    assert run.status is RunStatus.COMPLETED, run.error
    assert run.output == {"charge": {"charged": 7, "at": "t1"}, "ship": "shipped 7", "attempt": 2}
    assert calls == ["charge", "ship", "ship"]
    steps = [(s.step_id, s.status) for s in await client.steps(run.run_id)]
    assert steps == [("charge", "COMPLETED"), ("ship", "FAILED"), ("ship", "COMPLETED")]
    failed = (await client.steps(run.run_id))[1].error
    assert failed is not None and failed.type == "ConnectionError"
    assert failed.message == "carrier down" and "Traceback" in failed.stack_trace


async def test_replay__in_process_step_retries_then_success(
    client: Client, address: str, ns: str
) -> None:
    attempts: list[int] = []

    async def flaky() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) < 3:
            raise TimeoutError("slow upstream")
        return "ok"

    @workflow(name="in-process-retry")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        retry = RetryPolicy(initial_interval=timedelta(milliseconds=10), maximum_attempts=3)
        return await ctx.step.run("flaky", flaky, retry=retry)

    run = await _run_to_end(client, address, ns, flow)

    assert run.status is RunStatus.COMPLETED and run.output == "ok"
    assert attempts == [1, 2, 3] and run.attempt == 1
    (step,) = await client.steps(run.run_id)
    assert step.status == "COMPLETED"
    assert step.config == {"retry": {"initial_interval": 0.01, "maximum_attempts": 3}}


async def test_replay__duplicate_step_id_fails_the_run_without_retry(
    client: Client, address: str, ns: str
) -> None:
    @workflow(name="duplicate")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        await ctx.step.run("same", lambda: 1)
        await ctx.step.run("same", lambda: 2)

    run = await _run_to_end(client, address, ns, flow, retry_policy=QUICK_RETRY)

    assert run.status is RunStatus.FAILED and run.attempt == 1
    assert run.error is not None and run.error.type == "DuplicateStepError"
    assert "'same' is used twice" in run.error.message and run.error.non_retryable
    assert [(s.step_id, s.status) for s in await client.steps(run.run_id)] == [
        ("same", "COMPLETED")
    ]


async def test_replay__non_serialisable_step_output_is_refused_before_recording(
    client: Client, address: str, ns: str
) -> None:
    @workflow(name="unserialisable-step")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        await ctx.step.run("opaque", lambda: {"when": datetime.now(UTC)})

    run = await _run_to_end(client, address, ns, flow, retry_policy=QUICK_RETRY)

    assert run.status is RunStatus.FAILED and run.attempt == 1
    (step,) = await client.steps(run.run_id)
    assert step.status == "FAILED" and step.output is None
    assert step.error is not None and step.error.type == "NotSerializableError"
    assert "the output of step 'opaque'['when'] is a datetime" in step.error.message


async def test_replay__non_serialisable_workflow_result_fails_the_run(
    client: Client, address: str, ns: str
) -> None:
    @workflow(name="unserialisable-result")
    async def flow(ctx: WorkflowContext, _: Any) -> Any:
        return {1, 2}

    run = await _run_to_end(client, address, ns, flow, retry_policy=QUICK_RETRY)

    assert run.status is RunStatus.FAILED and run.output is None
    assert run.error is not None and run.error.type == "NotSerializableError"
    assert "is a set" in run.error.message


async def test_replay__non_retryable_error_skips_every_retry(
    client: Client, address: str, ns: str
) -> None:
    calls: list[int] = []

    def declined() -> None:
        calls.append(1)
        raise NonRetryableError("card declined")

    @workflow(name="non-retryable")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        await ctx.step.run("charge", declined, retry=RetryPolicy(maximum_attempts=5))

    run = await _run_to_end(client, address, ns, flow, retry_policy=QUICK_RETRY)

    assert run.status is RunStatus.FAILED and run.attempt == 1 and calls == [1]
    assert run.error is not None and run.error.non_retryable
    assert (run.error.type, run.error.message) == ("NonRetryableError", "card declined")


async def test_replay__exhausted_run_retries_fail_the_run(
    client: Client, address: str, ns: str
) -> None:
    @workflow(name="always-fails")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        raise RuntimeError("broken")

    run = await _run_to_end(client, address, ns, flow, retry_policy=QUICK_RETRY)

    assert run.status is RunStatus.FAILED and run.attempt == 3
    assert run.error is not None and (run.error.type, run.error.non_retryable) == (
        "RuntimeError",
        False,
    )


async def test_steps__sync_functions_run_on_worker_threads_async_on_the_loop(
    client: Client, address: str, ns: str
) -> None:
    seen: dict[str, bool] = {}

    def sync_fn(a: int, *, b: int) -> int:
        seen["sync on main thread"] = threading.current_thread() is threading.main_thread()
        return a + b

    async def async_fn(a: int) -> int:
        seen["async on main thread"] = threading.current_thread() is threading.main_thread()
        return a * 10

    @workflow(name="kinds")
    async def flow(ctx: WorkflowContext, _: Any) -> list[int]:
        return [
            await ctx.step.run("sync", sync_fn, 1, b=2),
            await ctx.step.run("async", async_fn, 3),
        ]

    run = await _run_to_end(client, address, ns, flow)

    assert run.output == [3, 30]
    assert seen == {"sync on main thread": False, "async on main thread": True}


async def test_sleep__resumes_after_the_wake_up_and_skips_the_done_sleep(
    client: Client, address: str, ns: str
) -> None:
    calls: list[str] = []

    @workflow(name="napper")
    async def flow(ctx: WorkflowContext, _: Any) -> int:
        calls.append("execution")
        await ctx.step.sleep("nap", timedelta(milliseconds=300))
        await ctx.step.sleep_until("past", datetime.now(UTC) - timedelta(seconds=1))
        return ctx.attempt

    run = await _run_to_end(client, address, ns, flow)

    assert run.status is RunStatus.COMPLETED and run.output == 1
    assert calls == ["execution", "execution"]
    steps = [(s.step_id, s.kind, s.status) for s in await client.steps(run.run_id)]
    assert steps == [("nap", "SLEEP", "COMPLETED"), ("past", "SLEEP", "COMPLETED")]


async def test_steps__run_in_parallel_with_gather(client: Client, address: str, ns: str) -> None:
    async def fetch(name: str) -> str:
        await asyncio.sleep(0.05)
        return name.upper()

    @workflow(name="fan-out")
    async def flow(ctx: WorkflowContext, names: list[str]) -> list[str]:
        return list(await asyncio.gather(*(ctx.step.run(n, fetch, n) for n in names)))

    run = await _run_to_end(client, address, ns, flow, ["a", "b", "c"])

    assert run.output == ["A", "B", "C"]
    assert sorted(s.step_id for s in await client.steps(run.run_id)) == ["a", "b", "c"]


async def test_replay__a_step_returns_its_output_as_recorded_even_the_first_time(
    client: Client, address: str, ns: str
) -> None:
    def pair() -> tuple[int, int]:
        return (1, 2)

    @workflow(name="as-recorded")
    async def flow(ctx: WorkflowContext, _: Any) -> dict[str, Any]:
        seen = await ctx.step.run("pair", pair)
        # A replay reads [1, 2] from the history: the first execution must see the same.
        return {"type": type(seen).__name__, "value": seen}

    run = await _run_to_end(client, address, ns, flow)

    assert run.status is RunStatus.COMPLETED, run.error
    assert run.output == {"type": "list", "value": [1, 2]}
