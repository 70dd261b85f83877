"""`python -m bench.auth`: what requiring API keys costs the server, on vs off, one run.

Per backend and round, one server process with `--auth off` and one with `--auth
required` (in A B B A order, so that drift and the growing database hit both alike)
each take N StartWorkflow calls, then N CompleteStep calls (one per run it claimed),
from C concurrent callers over one channel; the "required" calls carry an admin key.
Reported: the server's CPU per call of each mode (from /proc, medians over the rounds)
and the on/off ratio, and the access check's own cost per call measured in this process
(a key already cached). Target: at most 5% more server CPU per call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

from bench import pg
from bench.cpu import _process_seconds
from bench.options import backends, positive_int, progress
from bench.report import Environment
from bench.server import running_server
from bench.targets import open_target
from services import api_keys
from services.access import Access
from services.key_cache import KeyCache
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc as wk_grpc
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc
from storage import create_store
from storage.access import Role

TAG = "bench.auth"
MODES = ("off", "required")
CALLS = ("StartWorkflow", "CompleteStep")
Metadata = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Options:
    backends: tuple[str, ...]
    calls: int
    rounds: int
    concurrency: int
    postgres_admin_url: str


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.auth", description=__doc__)
    parser.add_argument("--backends", type=backends, default=("sqlite", "postgres"))
    parser.add_argument("--calls", type=positive_int, help="per call kind and round; default 2000")
    parser.add_argument("--rounds", type=positive_int, default=3, help="default 3")
    parser.add_argument("--concurrency", type=positive_int, default=32, help="default 32")
    parser.add_argument("--postgres-admin-url", default=pg.default_admin_url())
    parser.add_argument("--quick", action="store_true", help="1 round of 200 calls")
    args = parser.parse_args(argv)
    return Options(
        backends=args.backends,
        calls=args.calls or (200 if args.quick else 2000),
        rounds=1 if args.quick else args.rounds,
        concurrency=args.concurrency,
        postgres_admin_url=args.postgres_admin_url,
    )


async def _admin_key(database_url: str) -> str:
    """An admin key of `default`, written to the database as `keys create` does."""
    store = create_store(database_url)
    await store.start()
    try:
        await store.migrate()
        _, secret = await api_keys.issue(store, "default", "bench", Role.ADMIN)
        return secret
    finally:
        await store.close()


async def _in_parallel(
    count: int, concurrency: int, call: Callable[[int], Awaitable[None]]
) -> None:
    queue = iter(range(count))

    async def caller() -> None:
        for number in queue:
            await call(number)

    await asyncio.gather(*(caller() for _ in range(concurrency)))


async def _cpu_per_call(pid: int, run: Callable[[], Awaitable[None]], calls: int) -> float:
    """The server's CPU microseconds per call while `run` makes `calls` calls."""
    before = _process_seconds(pid) or 0.0
    await run()
    after = _process_seconds(pid) or 0.0
    return 1e6 * (after - before) / calls


async def _round(
    database_url: str, mode: str, metadata: Metadata, options: Options
) -> dict[str, float]:
    environ = {**_environ(), "STEPLINE_AUTH": mode}
    async with (
        running_server(database_url, environ=environ) as server,
        grpc.aio.insecure_channel(server.address) as channel,
    ):
        workflows = wf_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
        worker = wk_grpc.WorkerServiceStub(channel)  # type: ignore[no-untyped-call]
        queue = f"auth-{mode}-{time.monotonic_ns()}"
        start = wf.StartWorkflowRequest(workflow_name="bench", task_queue=queue)

        async def one_start(_: int) -> None:
            await workflows.StartWorkflow(start, metadata=metadata)

        async def starts() -> None:
            await _in_parallel(options.calls, options.concurrency, one_start)

        figures = {"StartWorkflow": await _cpu_per_call(server.pid, starts, options.calls)}
        leases = await _claim(worker, queue, options.calls, metadata)

        async def one_completion(number: int) -> None:
            request = wk.CompleteStepRequest(lease=leases[number], step_id="s")
            await worker.CompleteStep(request, metadata=metadata)

        async def completions() -> None:
            await _in_parallel(len(leases), options.concurrency, one_completion)

        figures["CompleteStep"] = await _cpu_per_call(server.pid, completions, len(leases))
        return figures


async def _claim(
    worker: wk_grpc.WorkerServiceStub, queue: str, count: int, metadata: Metadata
) -> list[wk.RunLease]:
    leases: list[wk.RunLease] = []
    while len(leases) < count:
        request = wk.PollActivityRequest(task_queue=queue, max_runs=100)
        request.wait.FromSeconds(5)
        polled = await worker.PollActivity(request, metadata=metadata)
        leases.extend(task.lease for task in polled.tasks)
    return leases


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "STEPLINE_"))}


async def bench_backend(backend: str, options: Options) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, list[float]]] = {m: {c: [] for c in CALLS} for m in MODES}
    async with open_target(backend, options.postgres_admin_url) as target:
        secret = await _admin_key(target.database_url)
        for number in range(1, options.rounds + 1):
            # A B, then B A: the database grows with each round, and both modes share it.
            for mode in MODES if number % 2 else reversed(MODES):
                progress(f"{backend}: round {number}/{options.rounds}, auth {mode}", TAG)
                metadata: Metadata = (
                    (("authorization", f"Bearer {secret}"),) if mode == "required" else ()
                )
                figures = await _round(target.database_url, mode, metadata, options)
                for call, value in figures.items():
                    found[mode][call].append(value)
    return {m: {c: statistics.median(v) for c, v in calls.items()} for m, calls in found.items()}


async def check_cost_microseconds(backend_url: str) -> float:
    """The access check of one call, its key cached: microseconds, in this process."""
    store = create_store(backend_url)
    await store.start()
    try:
        await store.migrate()
        _, secret = await api_keys.issue(store, "default", "bench", Role.CLIENT)
        access = Access(KeyCache(store), required=True)
        metadata = (("authorization", f"Bearer {secret}"),)
        request = wf.StartWorkflowRequest(workflow_name="bench")
        method = "/stepline.v1.WorkflowService/StartWorkflow"
        await access.check(method, metadata, request)  # fills the caches
        count = 20_000
        best = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            for _ in range(count):
                await access.check(method, metadata, request)
            best = min(best, time.perf_counter() - began)
        await access.cache.close()
        return 1e6 * best / count
    finally:
        await store.close()


def report(figures: dict[str, dict[str, dict[str, float]]], check_us: float) -> str:
    lines = [
        "| backend | call | server CPU/call, auth off | auth required | ratio |",
        "|---|---|---|---|---|",
    ]
    for backend, modes in figures.items():
        for call in CALLS:
            off, on = modes["off"][call], modes["required"][call]
            lines.append(f"| {backend} | {call} | {off:.0f} µs | {on:.0f} µs | {on / off:.3f} |")
    lines.append("")
    lines.append(f"The access check alone (key cached): {check_us:.1f} µs per call.")
    return "\n".join(lines)


async def main(argv: Sequence[str]) -> None:
    options = parse_options(argv)
    figures = {backend: await bench_backend(backend, options) for backend in options.backends}
    with tempfile.TemporaryDirectory() as folder:
        check_us = await check_cost_microseconds(f"sqlite:///{Path(folder) / 'check.db'}")
    print(Environment.of("bench.auth", argv).describe())
    print(report(figures, check_us))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
