"""A worker process of the chaos suite (bench/chaos.py): the SDK Worker running
"chaos.flow", whose every step leaves a side effect of its own in PostgreSQL.

A step execution inserts one row into `chaos_effects` (run, step, this process's pid,
the wall-clock time) before it returns, on a connection of its own that commits at once:
a row is a step that ran, whether or not the engine recorded its result. Two rows for one
step are a re-execution, which the harness must explain by a fault.

Run as `python -m bench.chaos_worker GRPC_ADDRESS DATABASE_URL`; it serves until SIGTERM
(or until the harness kills it).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import timedelta

import psycopg

from stepline import RetryPolicy, Worker, WorkflowContext, workflow

STEPS = 3
STEP_SECONDS = 0.2
# The harness terminates the servers' backends, never these (it names them).
EFFECTS_APPLICATION = "chaos-effects"
EFFECTS_TABLE = """
CREATE TABLE IF NOT EXISTS chaos_effects (
    run_id text NOT NULL,
    step_id text NOT NULL,
    pid integer NOT NULL,
    at double precision NOT NULL
)
"""
# A step whose side effect could not be written (its connection broke) is retried soon.
_STEP_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=20)


class Effects:
    """One autocommit connection per process, opened again when it breaks."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.AsyncConnection[object] | None = None
        self._lock = asyncio.Lock()

    async def record(self, run_id: str, step_id: str) -> None:
        async with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, application_name=EFFECTS_APPLICATION
                )
            try:
                await self._conn.execute(
                    "INSERT INTO chaos_effects (run_id, step_id, pid, at) VALUES (%s, %s, %s, %s)",
                    (run_id, step_id, os.getpid(), time.time()),
                )
            except psycopg.OperationalError:
                await self._conn.close()
                self._conn = None
                raise


async def _step(effects: Effects, run_id: str, step_id: str) -> None:
    """The side effect, then some work: a fault in this window makes the step run again."""
    await effects.record(run_id, step_id)
    await asyncio.sleep(STEP_SECONDS)


def flow_for(effects: Effects) -> object:
    @workflow(name="chaos.flow")
    async def flow(ctx: WorkflowContext, number: int) -> int:
        total = 0
        for index in range(STEPS):
            step_id = f"s{index}"
            await ctx.step.run(step_id, _step, effects, ctx.run_id, step_id, retry=_STEP_RETRY)
            total += number
        return total

    return flow


async def serve(address: str, url: str) -> None:
    worker = Worker(address, workflows=[flow_for(Effects(url))], concurrency=20, poll_wait=5)  # type: ignore[list-item]
    print(f"chaos worker {os.getpid()} serving {address}", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
