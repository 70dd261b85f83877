"""A minimal raw-gRPC worker: one poll loop claims up to its free slots, and each claimed
run is an asyncio task that records its no-op steps (one CompleteStep round trip each,
no BeginStep) and then completes the run. A slot is free again once its run ends."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import grpc
from google.protobuf import duration_pb2, struct_pb2

from bench.api import Api
from stepline.v1 import worker_service_pb2 as wk

# Called with each claimed task and the perf_counter reading when its poll returned.
OnClaimed = Callable[[wk.RunTask, float], None]
_POLL_RETRY_DELAY = 0.1
_POLL_DEADLINE_MARGIN = 10.0
_MAX_RUNS_PER_POLL = 100


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    namespace_id: str
    task_queue: str
    slots: int
    steps: int
    wait_seconds: float
    worker_id: str = "bench-worker"


@dataclass(slots=True)
class WorkerStats:
    polls: int = 0
    empty_polls: int = 0
    claimed: int = 0
    step_calls: int = 0
    completed_runs: int = 0
    failed_runs: int = 0
    errors: list[str] = field(default_factory=list)
    last_run_ended_at: float = 0.0
    """perf_counter reading when the latest run ended."""

    @property
    def rpcs(self) -> int:
        return self.polls + self.step_calls + self.completed_runs

    @property
    def ended_runs(self) -> int:
        return self.completed_runs + self.failed_runs


def step_output(number: int) -> struct_pb2.Value:
    value = struct_pb2.Value()
    value.struct_value.update({"step": number, "ok": True})
    return value


class BenchWorker:
    """`serve()` until cancelled; `wait_for_ended(n)` until n runs have ended."""

    def __init__(self, api: Api, config: WorkerConfig, on_claimed: OnClaimed | None = None):
        self._api = api
        self._config = config
        self._on_claimed = on_claimed
        self.stats = WorkerStats()
        self._active: set[asyncio.Task[None]] = set()
        self._run_ended = asyncio.Event()
        self._outputs = [step_output(n) for n in range(1, config.steps + 1)]
        self._wait = duration_pb2.Duration()
        self._wait.FromNanoseconds(int(config.wait_seconds * 1e9))

    async def serve(self) -> None:
        try:
            while True:
                await self._wait_for_free_slot()
                await self._poll_once()
        finally:
            for task in self._active:
                task.cancel()
            await asyncio.gather(*self._active, return_exceptions=True)

    async def wait_for_ended(self, runs: int) -> None:
        while self.stats.ended_runs < runs:
            self._run_ended.clear()
            await self._run_ended.wait()

    def _free_slots(self) -> int:
        return self._config.slots - len(self._active)

    async def _wait_for_free_slot(self) -> None:
        while self._free_slots() <= 0:
            self._run_ended.clear()
            await self._run_ended.wait()

    async def _poll_once(self) -> None:
        request = wk.PollActivityRequest(
            namespace_id=self._config.namespace_id,
            task_queue=self._config.task_queue,
            worker_id=self._config.worker_id,
            max_runs=min(self._free_slots(), _MAX_RUNS_PER_POLL),
            wait=self._wait,
        )
        self.stats.polls += 1
        try:
            response = await self._api.poll(
                request, deadline_seconds=self._config.wait_seconds + _POLL_DEADLINE_MARGIN
            )
        except grpc.aio.AioRpcError as error:
            self.stats.errors.append(f"poll: {error.code().name}: {error.details()}")
            await asyncio.sleep(_POLL_RETRY_DELAY)
            return
        received_at = time.perf_counter()
        if not response.tasks:
            self.stats.empty_polls += 1
        for task in response.tasks:
            self._launch(task, received_at)

    def _launch(self, task: wk.RunTask, received_at: float) -> None:
        self.stats.claimed += 1
        if self._on_claimed is not None:
            self._on_claimed(task, received_at)
        running = asyncio.create_task(self._execute(task))
        self._active.add(running)
        running.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._active.discard(task)
        self.stats.last_run_ended_at = time.perf_counter()
        self._run_ended.set()

    async def _execute(self, task: wk.RunTask) -> None:
        try:
            for number, output in enumerate(self._outputs, start=1):
                await self._api.complete_step(self._step_request(task, number, output))
                self.stats.step_calls += 1
            await self._api.complete_workflow(self._completion(task))
        except grpc.aio.AioRpcError as error:
            self.stats.failed_runs += 1
            self.stats.errors.append(
                f"run {task.run.run_id}: {error.code().name}: {error.details()}"
            )
            return
        self.stats.completed_runs += 1

    def _step_request(
        self, task: wk.RunTask, number: int, output: struct_pb2.Value
    ) -> wk.CompleteStepRequest:
        return wk.CompleteStepRequest(lease=task.lease, step_id=f"step-{number}", output=output)

    def _completion(self, task: wk.RunTask) -> wk.CompleteWorkflowRequest:
        return wk.CompleteWorkflowRequest(lease=task.lease)


@contextlib.asynccontextmanager
async def serving(worker: BenchWorker) -> AsyncIterator[BenchWorker]:
    """Run `worker.serve()` in the background for the block; cancel it at the end."""
    task = asyncio.create_task(worker.serve())
    try:
        yield worker
    finally:
        task.cancel()
        (outcome,) = await asyncio.gather(task, return_exceptions=True)
    if isinstance(outcome, Exception):
        raise outcome
