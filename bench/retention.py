"""`python -m bench.retention` (`make bench-retention`): what a claim costs with a large
history of finished runs, and while retention deletes it, on PostgreSQL (issue 16: claim
cost flat within 1.5x with 10,000 vs 1,000,000 finished runs, with and without retention
running; claim latency while deleting 1M rows).

One server, one fresh database. Finished runs (COMPLETED, one step each, ended two days
ago) are written in bulk by SQL into the very namespace and queue the claims read
(bench/retention_seed.py). A claim is one PollActivity taking one due run, timed from the
client; each run is started before its claim and completed after it, untimed. Measured:

1. `--small` finished runs, retention 0 (nothing deleted): the baseline;
2. the same while retention deletes them (the namespace's retention set to one day);
3. `--large` finished runs, retention 0;
4. the same while retention deletes all of them: claims are measured from the first
   deletion to the last, so this is the claim latency while deleting `--large` rows.

The server's retention settings are its defaults (500 runs a batch, 100 ms apart) with a
pass every second, so that deleting starts at once. Printed: each phase's p50 and p99, the
rows deleted while it was measured, and the p50 ratios of phases 2-4 to phase 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TextIO

from bench import pg
from bench.api import Api
from bench.options import positive_int, progress
from bench.pickup import Percentiles
from bench.retention_seed import count_runs, seed_finished
from bench.schema import migrate_with_namespace
from bench.server import running_server
from bench.targets import open_target
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_service_pb2 as wf

NAMESPACE = "bench"
QUEUE = "bench-retention"
RETENTION = timedelta(days=1)
ENDED = 2 * RETENTION  # the finished runs' age: past the retention once it is set
WARM_UP = 50
SERVER_ENV = {"STEPLINE_RETENTION_INTERVAL": "1s"}


@dataclass(frozen=True, slots=True)
class Phase(Percentiles):
    name: str
    finished_runs: int
    samples_ms: tuple[float, ...]
    deleted: int
    seconds: float


class Claims:
    """One run started, claimed (timed) and completed at a time."""

    def __init__(self, api: Api) -> None:
        self._api = api
        self._start = wf.StartWorkflowRequest(
            namespace_id=NAMESPACE, workflow_name="bench.claimed", task_queue=QUEUE
        )
        self._poll = wk.PollActivityRequest(namespace_id=NAMESPACE, task_queue=QUEUE, max_runs=1)
        self._poll.wait.FromSeconds(5)

    async def one(self) -> float:
        """Milliseconds the claim took."""
        await self._api.start_workflow(self._start)
        started = time.perf_counter()
        response = await self._api.poll(self._poll, deadline_seconds=15)
        took = (time.perf_counter() - started) * 1000
        if len(response.tasks) != 1:
            raise RuntimeError(f"a claim took {len(response.tasks)} runs, not 1")
        lease = response.tasks[0].lease
        await self._api.complete_workflow(wk.CompleteWorkflowRequest(lease=lease))
        return took

    async def count(self, claims: int) -> list[float]:
        return [await self.one() for _ in range(claims)]


async def _expired(url: str) -> int:
    """Finished runs left of the bulk-written ones (the claimed runs are not counted)."""
    return await count_runs(url, NAMESPACE, workflow_name="bench.finished")


async def _idle(name: str, url: str, claims: Claims, count: int) -> Phase:
    before, began = await _expired(url), time.perf_counter()
    samples = await claims.count(count)
    after = await _expired(url)
    return Phase(name, before, tuple(samples), before - after, time.perf_counter() - began)


async def _while_deleting(name: str, url: str, api: Api, claims: Claims, count: int) -> Phase:
    """Set the retention, then claim from the first deletion until none is left (at
    least `count` claims)."""
    before = await _expired(url)
    await api.set_retention(NAMESPACE, RETENTION)
    left = before
    while left == before:  # the server's next pass (a second at most) begins deleting
        await asyncio.sleep(0.01)
        left = await _expired(url)
    began, samples = time.perf_counter(), list[float]()
    while left > 0 or len(samples) < count:
        samples.append(await claims.one())
        if len(samples) % 100 == 0:
            left = await _expired(url)
    seconds = time.perf_counter() - began
    await api.set_retention(NAMESPACE, timedelta(0))
    return Phase(name, before, tuple(samples), before - await _expired(url), seconds)


async def measure(url: str, small: int, large: int, claims: int) -> list[Phase]:
    await migrate_with_namespace(url, NAMESPACE)
    await seed_finished(url, NAMESPACE, QUEUE, small, age=ENDED)
    environ = {**os.environ, **SERVER_ENV}
    async with running_server(url, environ=environ) as server:
        api = Api(server.address)
        try:
            await api.wait_ready()
            clock = Claims(api)
            await clock.count(WARM_UP)
            progress(f"{small:,} finished runs: measuring", "retention")
            phases = [await _idle("retention idle", url, clock, claims)]
            phases.append(await _while_deleting("deleting", url, api, clock, claims))
            progress(f"writing {large:,} finished runs", "retention")
            await seed_finished(url, NAMESPACE, QUEUE, large, age=ENDED)
            progress(f"{large:,} finished runs: measuring", "retention")
            phases.append(await _idle("retention idle", url, clock, claims))
            progress(f"deleting {large:,} finished runs, claiming meanwhile", "retention")
            phases.append(await _while_deleting("deleting", url, api, clock, claims))
        finally:
            await api.close()
    return phases


def report(phases: Sequence[Phase], out: TextIO) -> None:
    for phase in phases:
        print(
            f"{phase.finished_runs:>9,} finished runs, {phase.name:<14}: claim "
            f"p50 {phase.p50:6.2f} ms  p99 {phase.p99:6.2f} ms  ({len(phase.samples_ms)} "
            f"claims in {phase.seconds:.1f} s; {phase.deleted:,} runs deleted meanwhile)",
            file=out,
        )
    base = phases[0]
    for phase in phases[1:]:
        print(
            f"ratio p50 {phase.finished_runs:,} {phase.name} / {base.finished_runs:,} "
            f"{base.name}: {phase.p50 / base.p50:.2f}",
            file=out,
        )


async def run(argv: Sequence[str], out: TextIO = sys.stdout) -> list[Phase]:
    parser = argparse.ArgumentParser(prog="python -m bench.retention", description=__doc__)
    parser.add_argument("--small", type=positive_int, default=10_000)
    parser.add_argument("--large", type=positive_int, default=1_000_000)
    parser.add_argument("--claims", type=positive_int, default=1_000)
    parser.add_argument("--postgres-admin-url", default=pg.default_admin_url())
    args = parser.parse_args(argv)
    if args.small >= args.large:
        parser.error("need --small < --large")
    async with open_target("postgres", args.postgres_admin_url) as target:
        print(f"{target.version} ({target.durability})", file=out)
        phases = await measure(target.database_url, args.small, args.large, args.claims)
    report(phases, out)
    return phases


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1:]))
