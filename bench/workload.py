"""The reference workload (OpenWorkflow's own): N runs of M no-op steps, S worker slots.

Timing: all runs are started first (their StartWorkflow rate is reported on its own);
the execution clock starts when the worker sends its first PollActivity, with every run
already waiting, and stops when the last CompleteWorkflow returns.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass

from bench import cpu
from bench.api import Api
from bench.verify import Verification, verify_runs
from bench.worker import BenchWorker, WorkerConfig, WorkerStats, serving
from stepline.v1 import workflow_service_pb2 as wf

WORKFLOW_NAME = "bench-reference"
TASK_QUEUE = "bench"
POLL_WAIT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class WorkloadConfig:
    runs: int
    steps: int
    slots: int
    start_concurrency: int = 50


@dataclass(frozen=True, slots=True)
class WorkloadResult:
    config: WorkloadConfig
    start_seconds: float
    execute_seconds: float
    timed_out: bool
    cpu: cpu.CpuUsage
    """Cores busy during the execution."""
    worker: WorkerStats
    verification: Verification

    @property
    def starts_per_second(self) -> float:
        return self.config.runs / self.start_seconds

    @property
    def runs_per_second(self) -> float:
        return self.worker.completed_runs / self.execute_seconds

    @property
    def steps_per_second(self) -> float:
        return self.worker.step_calls / self.execute_seconds

    @property
    def worker_rpcs_per_second(self) -> float:
        return self.worker.rpcs / self.execute_seconds


def execute_timeout(config: WorkloadConfig) -> float:
    """Generous: far past any plausible run, but a lost run never hangs the benchmark."""
    return 60.0 + 0.05 * config.runs * (config.steps + 1)


async def reference_workload(
    address: str, server_pid: int, config: WorkloadConfig
) -> WorkloadResult:
    namespace_id = f"bench-{secrets.token_hex(4)}"
    client, worker_api = Api(address), Api(address)
    try:
        await client.wait_ready()
        await worker_api.wait_ready()
        await client.create_namespace(namespace_id)
        start_seconds, run_ids = await start_runs(client, namespace_id, config)
        worker = BenchWorker(
            worker_api,
            WorkerConfig(namespace_id, TASK_QUEUE, config.slots, config.steps, POLL_WAIT_SECONDS),
        )
        before = cpu.sample(server_pid)
        execute_seconds, timed_out = await _execute(worker, config)
        cpu_usage = cpu.usage(before, cpu.sample(server_pid))
        verification = await verify_runs(client, namespace_id, run_ids, config.steps)
    finally:
        await client.close()
        await worker_api.close()
    return WorkloadResult(
        config, start_seconds, execute_seconds, timed_out, cpu_usage, worker.stats, verification
    )


async def start_runs(
    api: Api, namespace_id: str, config: WorkloadConfig
) -> tuple[float, list[str]]:
    """Start every run from `start_concurrency` concurrent callers: (seconds, run IDs)."""
    run_ids: list[str] = []
    callers = min(config.start_concurrency, config.runs)

    async def caller(count: int) -> None:
        for _ in range(count):
            request = wf.StartWorkflowRequest(
                namespace_id=namespace_id, workflow_name=WORKFLOW_NAME, task_queue=TASK_QUEUE
            )
            response = await api.start_workflow(request)
            run_ids.append(response.run.run_id)

    shares = [config.runs // callers + (i < config.runs % callers) for i in range(callers)]
    began = time.perf_counter()
    await asyncio.gather(*(caller(share) for share in shares))
    return time.perf_counter() - began, run_ids


async def _execute(worker: BenchWorker, config: WorkloadConfig) -> tuple[float, bool]:
    """Run the worker until every run has ended: (seconds, timed out)."""
    began = time.perf_counter()
    async with serving(worker):
        try:
            await asyncio.wait_for(worker.wait_for_ended(config.runs), execute_timeout(config))
        except TimeoutError:
            return time.perf_counter() - began, True
    return worker.stats.last_run_ended_at - began, False
