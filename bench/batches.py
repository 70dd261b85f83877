"""`python -m bench.batches`: BatchCancelWorkflowRuns and BatchReplayWorkflowRuns over
100,000 runs each, on each backend, through the SDK and the real gRPC path to a real
server process, while a worker keeps claiming runs of another queue.

- cancel: 100,000 PENDING runs; replay: 100,000 runs that failed at step 3 of 3, replayed
  from it (two steps copied each). Pages of 1000 runs, each one transaction.
- claim latency: a probe starts a run on its own queue and times the PollActivity that
  claims it (the run is due at once, so the call's time is the claim's), then completes
  it; over and over, first alone (the baseline), then during each batch. A batch that
  held a lock on the runs table for longer than a chunk would show in its max.

Results go to stdout (a table per backend, then a Markdown table for docs/benchmarks.md);
progress to stderr. The exit status is 1 when a batch did not act on every run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from bench import pg
from bench.api import Api
from bench.batch_seed import CANCEL_QUEUE, FAILING_STEP, NAMESPACE, REPLAY_QUEUE, seed
from bench.options import backends, positive_int, progress
from bench.pickup import percentile
from bench.report import Environment
from bench.server import running_server
from bench.targets import BACKENDS, open_target
from stepline import BatchResult, Client
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_service_pb2 as wf

PROBE_QUEUE = "bench-probe"
BASELINE_SECONDS = 3.0
PROBE_PAUSE = 0.005


@dataclass(frozen=True, slots=True)
class Options:
    backends: tuple[str, ...]
    runs: int
    page_size: int
    postgres_admin_url: str


@dataclass(frozen=True, slots=True)
class Latencies:
    samples_ms: tuple[float, ...]

    def describe(self) -> str:
        if not self.samples_ms:
            return "no claim"
        s = self.samples_ms
        return f"p50 {percentile(s, 50):.1f} / p99 {percentile(s, 99):.1f} / max {max(s):.1f} ms"


@dataclass(frozen=True, slots=True)
class BatchFigure:
    result: BatchResult
    seconds: float
    claims: Latencies

    @property
    def runs_per_second(self) -> float:
        return self.result.affected_count / self.seconds


@dataclass(frozen=True, slots=True)
class BackendResult:
    backend: str
    runs: int
    baseline: Latencies
    cancel: BatchFigure
    replay: BatchFigure

    @property
    def complete(self) -> bool:
        return self.cancel.result.affected_count == self.replay.result.affected_count == self.runs


class Probe:
    """A worker claiming one run at a time on its own queue, timing each claim."""

    def __init__(self, address: str) -> None:
        self._api = Api(address)
        self.samples: list[float] = []

    async def run(self, stop: asyncio.Event) -> None:
        await self._api.wait_ready()
        while not stop.is_set():
            self.samples.append(await self._claim_one())
            await asyncio.sleep(PROBE_PAUSE)

    async def _claim_one(self) -> float:
        await self._api.start_workflow(
            wf.StartWorkflowRequest(
                namespace_id=NAMESPACE, workflow_name="probe", task_queue=PROBE_QUEUE
            )
        )
        poll = wk.PollActivityRequest(namespace_id=NAMESPACE, task_queue=PROBE_QUEUE, max_runs=1)
        poll.wait.FromSeconds(30)
        began = time.perf_counter()
        response = await self._api.poll(poll, deadline_seconds=60)
        took = (time.perf_counter() - began) * 1000
        (task,) = response.tasks
        await self._api.complete_workflow(wk.CompleteWorkflowRequest(lease=task.lease))
        return took

    async def during(self, work: Awaitable[Any] | None, seconds: float = 0) -> Latencies:
        """Probe while `work` runs (or for `seconds`); the claims' latencies."""
        stop = asyncio.Event()
        start = len(self.samples)
        probing = asyncio.create_task(self.run(stop))
        try:
            if work is not None:
                await work
            else:
                await asyncio.sleep(seconds)
        finally:
            stop.set()
            await probing
        return Latencies(tuple(self.samples[start:]))

    async def close(self) -> None:
        await self._api.close()


async def timed_batch(probe: Probe, batch: Awaitable[BatchResult]) -> BatchFigure:
    began = time.perf_counter()
    outcome: list[BatchResult] = []

    async def run() -> None:
        outcome.append(await batch)

    claims = await probe.during(run())
    return BatchFigure(outcome[0], time.perf_counter() - began, claims)


async def bench_backend(backend: str, options: Options) -> BackendResult:
    async with open_target(backend, options.postgres_admin_url) as target:
        progress(f"{backend}: seeding {options.runs} pending and {options.runs} failed runs")
        await seed(target.database_url, options.runs)
        async with running_server(target.database_url) as server:
            probe = Probe(server.address)
            client = Client(server.address, namespace=NAMESPACE)
            try:
                progress(f"{backend}: claim latency alone, {BASELINE_SECONDS:g} s")
                baseline = await probe.during(None, BASELINE_SECONDS)
                progress(f"{backend}: batch cancel")
                cancel = await timed_batch(
                    probe,
                    client.batch_cancel(
                        task_queue=CANCEL_QUEUE, reason="bench", page_size=options.page_size
                    ),
                )
                progress(f"{backend}: batch replay from {FAILING_STEP}")
                replay = await timed_batch(
                    probe,
                    client.batch_replay(
                        task_queue=REPLAY_QUEUE,
                        statuses=["failed"],
                        from_step=FAILING_STEP,
                        page_size=options.page_size,
                    ),
                )
            finally:
                await client.close()
                await probe.close()
    return BackendResult(backend, options.runs, baseline, cancel, replay)


def backend_table(result: BackendResult) -> str:
    lines = [f"{result.backend}: {result.runs} runs per batch"]
    lines.append(f"  claim latency alone:      {result.baseline.describe()}")
    for name, figure in (("cancel", result.cancel), ("replay", result.replay)):
        done = figure.result
        lines.append(
            f"  batch {name}: {done.affected_count} runs in {figure.seconds:.1f} s "
            f"({figure.runs_per_second:,.0f} runs/s, {done.pages} pages, "
            f"{done.skipped_count} skipped)"
        )
        lines.append(f"  claim latency during it: {figure.claims.describe()}")
    return "\n".join(lines)


def markdown(results: list[BackendResult]) -> str:
    rows = [
        "| backend | cancel runs/s | replay runs/s | claim latency alone | during cancel | "
        "during replay |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        rows.append(
            f"| {r.backend} | {r.cancel.runs_per_second:,.0f} | {r.replay.runs_per_second:,.0f} "
            f"| {r.baseline.describe()} | {r.cancel.claims.describe()} "
            f"| {r.replay.claims.describe()} |"
        )
    return "\n".join(rows)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.batches", description=__doc__)
    parser.add_argument("--backends", type=backends, default=BACKENDS)
    parser.add_argument("--runs", type=positive_int, default=100_000, help="per batch")
    parser.add_argument("--page-size", type=positive_int, default=1000, help="runs per page")
    parser.add_argument("--postgres-admin-url", default=pg.default_admin_url())
    parser.add_argument("--quick", action="store_true", help="2000 runs, pages of 500")
    return parser


def parse_options(argv: Sequence[str]) -> Options:
    args = _parser().parse_args(argv)
    runs, page_size = (2000, 500) if args.quick else (args.runs, args.page_size)
    return Options(args.backends, runs, page_size, args.postgres_admin_url)


async def run(options: Options, out: TextIO = sys.stdout) -> list[BackendResult]:
    results = []
    for backend in options.backends:
        result = await bench_backend(backend, options)
        print(backend_table(result), end="\n\n", file=out, flush=True)
        results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    options = parse_options(argv)
    env = Environment.of("bench.batches", argv)
    print(f"stepline batch benchmark, {env.date}: {env.describe()}\n", flush=True)
    results = asyncio.run(run(options))
    print(markdown(results))
    return 0 if all(r.complete for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
