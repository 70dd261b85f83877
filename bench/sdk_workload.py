"""The reference workload executed by the SDK's Worker instead of the raw-gRPC worker:
the same runs (workflow, queue, step ids and outputs), started and verified the same way,
timed from the worker's start to the end of the last execution."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Any

from bench import cpu
from bench.api import Api
from bench.verify import Verification, verify_runs
from bench.workload import (
    POLL_WAIT_SECONDS,
    TASK_QUEUE,
    WORKFLOW_NAME,
    WorkloadConfig,
    execute_timeout,
    start_runs,
)
from stepline import Worker, Workflow, WorkflowContext, workflow


@dataclass(frozen=True, slots=True)
class SdkWorkloadResult:
    config: WorkloadConfig
    execute_seconds: float
    timed_out: bool
    cpu: cpu.CpuUsage
    completed_runs: int
    ended: dict[str, int]
    verification: Verification

    @property
    def runs_per_second(self) -> float:
        return self.completed_runs / self.execute_seconds


def reference_workflow(steps: int) -> Workflow[Any, None]:
    """The reference run as SDK code: `steps` no-op async steps, step-1 ... step-N, each
    returning what the raw worker records."""
    outputs = [{"step": number, "ok": True} for number in range(1, steps + 1)]

    async def noop(number: int) -> dict[str, Any]:
        return outputs[number - 1]

    @workflow(name=WORKFLOW_NAME)
    async def reference(ctx: WorkflowContext, _: Any) -> None:
        for number in range(1, steps + 1):
            await ctx.step.run(f"step-{number}", noop, number)

    return reference


async def sdk_workload(address: str, server_pid: int, config: WorkloadConfig) -> SdkWorkloadResult:
    namespace_id = f"bench-sdk-{secrets.token_hex(4)}"
    client = Api(address)
    try:
        await client.wait_ready()
        await client.create_namespace(namespace_id)
        _, run_ids = await start_runs(client, namespace_id, config)
        worker = Worker(
            address,
            namespace=namespace_id,
            task_queue=TASK_QUEUE,
            workflows=[reference_workflow(config.steps)],
            concurrency=config.slots,
            poll_wait=POLL_WAIT_SECONDS,
            shutdown_grace=5.0,
        )
        before = cpu.sample(server_pid)
        seconds, timed_out = await _execute(worker, config)
        cpu_usage = cpu.usage(before, cpu.sample(server_pid))
        verification = await verify_runs(client, namespace_id, run_ids, config.steps)
    finally:
        await client.close()
    return SdkWorkloadResult(
        config=config,
        execute_seconds=seconds,
        timed_out=timed_out,
        cpu=cpu_usage,
        completed_runs=worker.stats.ended["completed"],
        ended=dict(worker.stats.ended),
        verification=verification,
    )


async def _execute(worker: Worker, config: WorkloadConfig) -> tuple[float, bool]:
    """Serve until every run's execution has ended: (seconds, timed out)."""
    began = time.perf_counter()
    serving = asyncio.create_task(worker.run())
    timed_out = False
    try:
        async with asyncio.timeout(execute_timeout(config)):
            await worker.wait_for_ended(config.runs)
    except TimeoutError:
        timed_out = True
    finally:
        await worker.shutdown()
        await serving
    end = time.perf_counter() if timed_out else worker.stats.last_ended_at
    return end - began, timed_out
