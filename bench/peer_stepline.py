"""The stepline side of `make bench-peers`: OpenWorkflow's harness (`ow_bench.mjs` in
`../shared/peers/openworkflow`) rewritten with the stepline SDK, measuring the same way, so
that both run as one process each (client and worker together) against one PostgreSQL.

`python -m bench.peer_stepline --target HOST:PORT --mode overlap|latency` prints one line
`RESULT {json}`:

- overlap: the SDK `Worker` (100 slots) is started and idle for a second; t0 is taken just
  before the first start; every run is started at once (`asyncio.gather` of
  `Client.start`, as the harness's `Promise.all` of `workflow.run()`); done when the worker
  has ended every run's execution, each ended by its CompleteWorkflow's answer (so the
  run is COMPLETED in the database by then). Runs/s = runs / (done - t0).
- latency: with the worker idle for a random 2.5-3.5 s, the time from just before
  `Client.start` to the entry of the run's first step, `--trials` times.

The workflow is the harness's: four synchronous no-op steps `step-1` ... `step-4` (they
return None, as its `() => { return; }`), then `{"completed": true}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from stepline import Client, Worker, WorkflowContext, workflow

WORKFLOW_NAME = "benchmark-workflow"
TASK_QUEUE = "peers"
IDLE_BEFORE_START = 1.0
OVERLAP_TIMEOUT = 600.0
LATENCY_PAUSE = (2.5, 3.5)


class FirstStepClock:
    """When each run's first step was entered (time.perf_counter()), for latency mode."""

    def __init__(self) -> None:
        self.entered: dict[str, float] = {}
        self._waiters: dict[str, asyncio.Future[float]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def enter(self, run_id: str) -> None:
        # Called on a step thread: only the first entry counts.
        now = time.perf_counter()
        if run_id in self.entered or self.loop is None:
            return
        self.entered[run_id] = now
        self.loop.call_soon_threadsafe(self._settle, run_id, now)

    def _settle(self, run_id: str, at: float) -> None:
        waiter = self._waiters.get(run_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(at)

    async def wait(self, run_id: str) -> float:
        if run_id in self.entered:
            return self.entered[run_id]
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters[run_id] = waiter
        return await waiter


def benchmark_workflow(clock: FirstStepClock) -> Any:
    def step_1(run_id: str) -> None:
        clock.enter(run_id)

    def noop() -> None:
        return None

    @workflow(name=WORKFLOW_NAME)
    async def benchmark(ctx: WorkflowContext, _: Any) -> dict[str, bool]:
        await ctx.step.run("step-1", step_1, ctx.run_id)
        await ctx.step.run("step-2", noop)
        await ctx.step.run("step-3", noop)
        await ctx.step.run("step-4", noop)
        return {"completed": True}

    return benchmark


def _worker(target: str, namespace: str, concurrency: int, clock: FirstStepClock) -> Worker:
    return Worker(
        target,
        namespace=namespace,
        task_queue=TASK_QUEUE,
        workflows=[benchmark_workflow(clock)],
        concurrency=concurrency,
        install_signal_handlers=False,
        shutdown_grace=5.0,
    )


async def overlap(
    target: str, namespace: str, runs: int, concurrency: int, connections: int = 1
) -> dict[str, Any]:
    """With `connections` > 1 (to spread the load over server processes): that many
    workers, sharing the slots, and clients, sharing the starts, each on its own channel."""
    clock = FirstStepClock()
    shares = [
        concurrency // connections + (n < concurrency % connections) for n in range(connections)
    ]
    workers = [_worker(target, namespace, share, clock) for share in shares]
    serving = [asyncio.create_task(worker.run()) for worker in workers]
    clients = [Client(target, namespace=namespace) for _ in range(connections)]
    try:
        await asyncio.sleep(IDLE_BEFORE_START)
        t0 = time.perf_counter()
        started = await asyncio.gather(
            *(
                clients[n % connections].start(WORKFLOW_NAME, task_queue=TASK_QUEUE)
                for n in range(runs)
            )
        )
        enqueued = time.perf_counter()
        async with asyncio.timeout(OVERLAP_TIMEOUT):
            await _all_ended(workers, runs)
        done = max(worker.stats.last_ended_at for worker in workers)
    finally:
        for client in clients:
            await client.close()
    for worker in workers:
        await worker.shutdown()
    await asyncio.gather(*serving)
    wall = done - t0
    ended: dict[str, int] = {}
    for worker in workers:
        for reason, count in worker.stats.ended.items():
            ended[reason] = ended.get(reason, 0) + count
    return {
        "engine": "stepline",
        "mode": "overlap",
        "runs": runs,
        "concurrency": concurrency,
        "enqueue_s": round(enqueued - t0, 3),
        "wall_s": round(wall, 3),
        "wf_per_s": round(runs / wall, 1),
        "steps_per_s": round(4 * runs / wall, 1),
        "ended": ended,
        "run_ids": len({run.run_id for run in started}),
        "connections": connections,
    }


async def _all_ended(workers: list[Worker], runs: int) -> None:
    """Until the workers together have ended `runs` executions. (The clock stops at the
    last end, `last_ended_at`, not when this notices it.)"""
    if len(workers) == 1:
        await workers[0].wait_for_ended(runs)
        return
    while True:
        if sum(worker.stats.ended.total() for worker in workers) >= runs:
            return
        await asyncio.sleep(0.005)


async def latency(target: str, namespace: str, trials: int, concurrency: int) -> dict[str, Any]:
    clock = FirstStepClock()
    clock.loop = asyncio.get_running_loop()
    worker = _worker(target, namespace, concurrency, clock)
    serving = asyncio.create_task(worker.run())
    latencies = []
    async with Client(target, namespace=namespace) as client:
        for done in range(trials):
            await asyncio.sleep(random.uniform(*LATENCY_PAUSE))
            sent = time.perf_counter()
            run = await client.start(WORKFLOW_NAME, task_queue=TASK_QUEUE)
            entered = await clock.wait(run.run_id)
            await worker.wait_for_ended(done + 1)
            latencies.append((entered - sent) * 1000)
    await worker.shutdown()
    await serving
    ordered = sorted(latencies)
    return {
        "engine": "stepline",
        "mode": "latency",
        "n": trials,
        "pickup_ms_median": round(statistics.median(ordered), 1),
        "pickup_ms_min": round(ordered[0], 1),
        "pickup_ms_max": round(ordered[-1], 1),
        "pickup_ms_all": [round(ms, 1) for ms in latencies],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer_stepline", description=__doc__)
    parser.add_argument("--target", required=True, help="the server's gRPC host:port")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--mode", choices=("overlap", "latency"), default="overlap")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument(
        "--connections",
        type=int,
        default=1,
        help="workers and clients, each on a channel of its own (overlap mode); default 1",
    )
    args = parser.parse_args(argv)
    if args.mode == "overlap":
        coro = overlap(args.target, args.namespace, args.runs, args.concurrency, args.connections)
    else:
        coro = latency(args.target, args.namespace, args.trials, args.concurrency)
    result = asyncio.run(coro)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
