"""Pickup latency: an idle worker long-polls (wait 20 s); runs are started one at a time,
and each sample is StartWorkflow sent -> the worker's poll returned that run, i.e. the
moment its first step can begin. The worker finishes each run before the next start, and
a short random pause lets its next poll settle into the wait, so it is idle every time.
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.api import Api
from bench.verify import Verification, verify_runs
from bench.worker import BenchWorker, WorkerConfig, serving
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_service_pb2 as wf

WORKFLOW_NAME = "bench-pickup"
TASK_QUEUE = "bench-pickup"
POLL_WAIT_SECONDS = 20.0
WARMUP_SAMPLES = 3
PAUSE_SECONDS = (0.02, 0.05)
SAMPLE_TIMEOUT = 30.0
STEPS = 4


@dataclass(frozen=True, slots=True)
class PickupResult:
    latencies_ms: tuple[float, ...]
    verification: Verification
    worker_errors: tuple[str, ...]

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)

    @property
    def max(self) -> float:
        return max(self.latencies_ms)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q% of values at or below."""
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


class Percentiles:
    """p50 and p99 of `samples_ms`, for a result dataclass that holds its samples."""

    __slots__ = ()
    samples_ms: tuple[float, ...]

    @property
    def p50(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.samples_ms, 99)


class ClaimClock:
    """When the worker's poll returned each run, for the starter to look up."""

    def __init__(self) -> None:
        self._claimed: dict[str, asyncio.Future[float]] = {}

    def _future(self, run_id: str) -> asyncio.Future[float]:
        return self._claimed.setdefault(run_id, asyncio.get_running_loop().create_future())

    def on_claimed(self, task: wk.RunTask, received_at: float) -> None:
        future = self._future(task.run.run_id)
        if not future.done():  # a reclaim after a lost lease keeps the first pickup
            future.set_result(received_at)

    @property
    def run_ids(self) -> list[str]:
        return list(self._claimed)

    async def claimed_at(self, run_id: str) -> float:
        return await asyncio.wait_for(self._future(run_id), SAMPLE_TIMEOUT)


async def pickup_latency(address: str, samples: int) -> PickupResult:
    namespace_id = f"bench-pickup-{secrets.token_hex(4)}"
    clock = ClaimClock()
    client, worker_api = Api(address), Api(address)
    config = WorkerConfig(namespace_id, TASK_QUEUE, 1, STEPS, POLL_WAIT_SECONDS)
    worker = BenchWorker(worker_api, config, on_claimed=clock.on_claimed)
    try:
        await client.wait_ready()
        await worker_api.wait_ready()
        await client.create_namespace(namespace_id)
        async with serving(worker):
            total = WARMUP_SAMPLES + samples
            latencies = [
                await _sample(client, worker, clock, namespace_id, done=n) for n in range(total)
            ]
            await asyncio.wait_for(worker.wait_for_ended(total), SAMPLE_TIMEOUT)
        verification = await verify_runs(client, namespace_id, clock.run_ids, STEPS)
    finally:
        await client.close()
        await worker_api.close()
    return PickupResult(tuple(latencies[WARMUP_SAMPLES:]), verification, tuple(worker.stats.errors))


async def _sample(
    client: Api, worker: BenchWorker, clock: ClaimClock, namespace_id: str, done: int
) -> float:
    """Start one run once the worker is idle again; the pickup latency in ms."""
    await asyncio.wait_for(worker.wait_for_ended(done), SAMPLE_TIMEOUT)
    await asyncio.sleep(random.uniform(*PAUSE_SECONDS))
    request = wf.StartWorkflowRequest(
        namespace_id=namespace_id, workflow_name=WORKFLOW_NAME, task_queue=TASK_QUEUE
    )
    sent_at = time.perf_counter()
    response = await client.start_workflow(request)
    claimed_at = await clock.claimed_at(response.run.run_id)
    return (claimed_at - sent_at) * 1000
