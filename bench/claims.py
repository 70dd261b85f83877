"""The claim statement on PostgreSQL, under what a priority index could make slow: a
queue with many runs parked in the future (sleeping, delayed starts, retries waiting).

Seeds a throwaway database by SQL, then times `Store.run_claim` itself (no gRPC), one
call at a time:

- **drain**: 20,000 due PENDING runs (mixed priorities when the schema has them) next to
  100,000 SLEEPING runs due tomorrow; claims of 10 until 5,000 are claimed.
- **idle**: a queue holding only 100,000 runs due tomorrow; claims that find nothing
  (each also reads how long until the next run is due, for the long poll's timer).
- **flood** (only with priorities): 20,000 due priority-5 runs, then one priority-1 run:
  whether the next claim of 10 takes it.
- **held** (only with concurrency limits): 5,000 due runs of one concurrency key whose
  limit (1) is taken, ahead of 20,000 due runs of a workflow without limits: the cost of
  a claim that walks past the runs a limit holds back.

It uses only the Store interface, so the same file measures an older checkout too:
`PYTHONPATH=/path/to/old/checkout python bench/claims.py` (before) and
`python -m bench.claims` (after). Ratios within one run, never timed assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import timedelta

import psycopg

from bench.pg import default_admin_url, describe, throwaway_database
from storage import create_store
from storage.postgres.database import Q
from storage.records import RunClaimParams
from storage.registry import WorkerRegisterParams, WorkflowDefinition

LEASE = timedelta(minutes=5)
_SEED = """
INSERT INTO stepline_workflow_runs (
    id, namespace_id, workflow_name, status, task_queue, retry_initial_interval,
    retry_backoff_coefficient, retry_maximum_interval, retry_maximum_attempts, available_at
    {priority_column}{key_column}
)
SELECT gen_random_uuid(), 'bench', %(workflow)s, %(status)s, %(queue)s, '1s', 2, '100s', 3,
    now() + %(due_in)s + n * interval '1 microsecond' {priority_value}{key_value}
FROM generate_series(1, %(count)s) AS n
"""
# Due runs get priorities 1-4 in turn; parked ones the default.
_MIXED = "1 + n %% 4"


async def _seed(
    url: str,
    queue: str,
    status: str,
    count: int,
    due_in: timedelta,
    priority: str | None = None,
    keyed: tuple[str, str] | None = None,
) -> None:
    """Seed runs of workflow "wf", or of `keyed` (workflow, concurrency key)."""
    statement = _SEED.format(
        priority_column="" if priority is None else ", priority",
        priority_value="" if priority is None else f", {priority}",
        key_column="" if keyed is None else ", concurrency_key",
        key_value="" if keyed is None else ", %(key)s",
    )
    workflow, key = keyed or ("wf", None)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        values = {
            "status": status,
            "queue": queue,
            "count": count,
            "due_in": due_in,
            "workflow": workflow,
            "key": key,
        }
        await conn.execute(statement.encode(), values)
        await conn.execute(b"ANALYZE stepline_workflow_runs")


async def _has_table(url: str, table: str) -> bool:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(b"SELECT to_regclass(%s) IS NOT NULL", (table,))
        row = await cursor.fetchone()
        return row is not None and bool(row[0])


async def _held(url: str, store: object, times: int) -> tuple[list[float], int]:
    """The held workload: the key's one slot is taken by a first claim, then measured."""
    limited = WorkflowDefinition("wf-limited", "", max_concurrency_per_key=1)
    await store.worker_register(  # type: ignore[attr-defined]
        WorkerRegisterParams("bench", "registrar", "held", (limited,), timedelta(minutes=1))
    )
    busy = ("wf-limited", "busy")
    await _seed(url, "held", "PENDING", 5_000, timedelta(minutes=-2), keyed=busy)
    await _seed(url, "held", "PENDING", 20_000, timedelta(minutes=-1))
    await _claims(store, "held", 1, 10)  # takes the key's slot
    return await _claims(store, "held", times, 10)


async def _has_priorities(url: str) -> bool:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            b"SELECT 1 FROM information_schema.columns "
            b"WHERE table_name = 'stepline_workflow_runs' AND column_name = 'priority'"
        )
        return await cursor.fetchone() is not None


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.2f} / p99 {p99 * 1000:.2f} ms"


async def _claims(store: object, queue: str, times: int, max_runs: int) -> tuple[list[float], int]:
    params = RunClaimParams("bench", queue, "bench-worker", (), max_runs, LEASE)
    samples, claimed = [], 0
    for _ in range(times):
        started = time.perf_counter()
        result = await store.run_claim(params)  # type: ignore[attr-defined]
        samples.append(time.perf_counter() - started)
        claimed += len(result.claimed)
    return samples, claimed


async def main(claims: int) -> None:
    async with throwaway_database(default_admin_url()) as url:
        store = create_store(url)
        await store.start()
        try:
            await store.migrate()
            version, _ = await describe(url)
            tomorrow = timedelta(days=1)
            priorities = await _has_priorities(url)
            await _seed(url, "drain", "SLEEPING", 100_000, tomorrow)
            due = timedelta(seconds=-60)
            await _seed(url, "drain", "PENDING", 20_000, due, _MIXED if priorities else None)
            await _seed(url, "idle", "SLEEPING", 100_000, tomorrow)
            drain, taken = await _claims(store, "drain", claims, 10)
            idle, _ = await _claims(store, "idle", claims, 10)
            drain_blocks = await _blocks(url, "run_claim", "drain")
            idle_blocks = await _blocks(url, "run_claim", "idle") + await _blocks(
                url, "run_next_due", "idle"
            )
            print(f"claims on {version}; priorities in the schema: {priorities}")
            print(f"  drain (10 a claim, {taken} claimed): {_ms(drain)}, {drain_blocks} blocks")
            print(f"  idle (nothing due, 100,000 parked): {_ms(idle)}, {idle_blocks} blocks")
            if priorities:
                flood = await _flood(url, store)
                print(f"  flood: a priority-1 run behind 20,000 priority-5 runs {flood}")
            if await _has_table(url, "stepline_concurrency_slots"):
                held, held_taken = await _held(url, store, claims)
                held_blocks = await _blocks(url, "run_claim", "held")
                print(
                    f"  held (10 a claim past 5,000 held back, {held_taken} claimed): "
                    f"{_ms(held)}, {held_blocks} blocks"
                )
        finally:
            await store.close()


async def _blocks(url: str, statement: str, queue: str) -> int:
    """Buffer blocks one execution of the statement touches: a measure of its work that
    the noise of a shared machine does not move. Run in a transaction rolled back."""
    values = {
        "namespace_id": "bench",
        "task_queue": queue,
        "workflow_names": None,
        "max_runs": 10,
        "lease_duration": LEASE,
        "worker_id": "bench-worker",
        "deadline_error": "{}",
        "lease_expired_error": "{}",
        "abandoned_error": "{}",
        "max_crashes": 3,
        "crashed_error": "{}",
    }
    async with await psycopg.AsyncConnection.connect(url) as conn:
        explain = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + Q[statement]
        cursor = await conn.execute(explain.encode(), values)
        row = await cursor.fetchone()
        await conn.rollback()
    assert row is not None
    plan = row[0][0]["Plan"]
    return int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])


async def _flood(url: str, store: object) -> str:
    await _seed(url, "flood", "PENDING", 20_000, timedelta(seconds=-60), "5")
    await _seed(url, "flood", "PENDING", 1, timedelta(seconds=-1), "1")
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            b"SELECT id::text FROM stepline_workflow_runs WHERE task_queue = 'flood' "
            b"AND priority = 1"
        )
        row = await cursor.fetchone()
    assert row is not None
    params = RunClaimParams("bench", "flood", "bench-worker", (), 10, LEASE)
    started = time.perf_counter()
    result = await store.run_claim(params)  # type: ignore[attr-defined]
    took = (time.perf_counter() - started) * 1000
    found = row[0] in {c.run.run_id for c in result.claimed}
    return f"is in the next claim: {found} ({took:.2f} ms)"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=500)
    asyncio.run(main(parser.parse_args().claims))
