"""`python -m bench.waits`: resumption latency of a waiting run. An idle SDK worker
serves a workflow that waits for a signal (or an event), then runs one step; each sample
is "SignalWorkflowRun (or SendEvent) sent -> the step after the wait began", measured in
this process (the step notes its start on the same clock). Runs go one at a time, each
parked WAITING before its signal is sent, so the worker is idle every time. Target
(issue 14): p50 under 20 ms on PostgreSQL. Prints p50/p99 per backend and kind.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from bench import pg
from bench.options import backends, positive_int
from bench.pickup import Percentiles
from bench.server import running_server
from bench.targets import BACKENDS, open_target
from stepline import Client, RunStatus, Worker, WorkflowContext, workflow

TARGET_P50_MS = 20.0
SAMPLE_TIMEOUT = 30.0
KINDS = ("signal", "event")
_resumed: dict[str, asyncio.Future[float]] = {}


async def _note(key: str) -> None:
    """Async, so it runs on the loop that holds the future (a sync step runs on a thread)."""
    future = _resumed.get(key)
    if future is not None and not future.done():
        future.set_result(time.perf_counter())


@workflow(name="bench-wait")
async def waiting(ctx: WorkflowContext, job: dict[str, Any]) -> None:
    if job["kind"] == "signal":
        await ctx.step.wait_for_signal("wait", "go")
    else:
        await ctx.step.wait_for_event("wait", "bench.go", match={"key": job["key"]})
    await ctx.step.run("after", _note, job["key"])


@dataclass(frozen=True, slots=True)
class Latencies(Percentiles):
    backend: str
    kind: str
    samples_ms: tuple[float, ...]


async def _parked(client: Client, run_id: str) -> None:
    deadline = time.monotonic() + SAMPLE_TIMEOUT
    while (await client.get(run_id)).status is not RunStatus.WAITING:
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} never parked")
        await asyncio.sleep(0.005)


async def _sample(client: Client, kind: str) -> float:
    key = secrets.token_hex(6)
    _resumed[key] = asyncio.get_running_loop().create_future()
    run = await client.start("bench-wait", {"kind": kind, "key": key}, task_queue="bench-wait")
    await _parked(client, run.run_id)
    await asyncio.sleep(0.02)  # the worker's next poll settles into its wait
    sent = time.perf_counter()
    if kind == "signal":
        await client.signal(run.run_id, "go")
    else:
        await client.send_event("bench.go", {"key": key})
    resumed = await asyncio.wait_for(_resumed[key], SAMPLE_TIMEOUT)
    del _resumed[key]
    await client.result(run.run_id, timeout=SAMPLE_TIMEOUT)
    return (resumed - sent) * 1000


async def measure(address: str, backend: str, samples: int) -> list[Latencies]:
    worker = Worker(
        address, workflows=[waiting], task_queue="bench-wait", install_signal_handlers=False
    )
    serving = asyncio.create_task(worker.run())
    results = []
    try:
        async with Client(address) as client:
            for kind in KINDS:
                found = [await _sample(client, kind) for _ in range(samples)]
                results.append(Latencies(backend, kind, tuple(found)))
    finally:
        await worker.shutdown()
        await serving
    return results


async def run(argv: Sequence[str], out: TextIO = sys.stdout) -> list[Latencies]:
    parser = argparse.ArgumentParser(prog="python -m bench.waits", description=__doc__)
    parser.add_argument("--backends", type=backends, default=BACKENDS)
    parser.add_argument("--samples", type=positive_int, default=50)
    parser.add_argument("--postgres-admin-url", default=pg.default_admin_url())
    args = parser.parse_args(argv)
    results: list[Latencies] = []
    for backend in args.backends:
        async with (
            open_target(backend, args.postgres_admin_url) as target,
            running_server(target.database_url) as server,
        ):
            results += await measure(server.address, backend, args.samples)
    for r in results:
        target_note = f" (target p50 < {TARGET_P50_MS:.0f} ms)" if r.backend == "postgres" else ""
        print(
            f"{r.backend:8} {r.kind:6} resumed after: p50 {r.p50:6.1f} ms  "
            f"p99 {r.p99:6.1f} ms  ({len(r.samples_ms)} samples){target_note}",
            file=out,
        )
    return results


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1:]))
