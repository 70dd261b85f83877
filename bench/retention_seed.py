"""Finished runs written in bulk by SQL into a migrated PostgreSQL database (through the
API, a million finished runs would take hours): for `bench.retention` and the retention
tests. Each run is COMPLETED with one completed step, and ended `age` ago; runs are
written in chunks, each committed, so that a million never sit in one transaction."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import psycopg

CHUNK = 100_000

_RUNS_AND_STEPS = """
WITH runs AS (
    INSERT INTO stepline_workflow_runs (id, namespace_id, workflow_name, status, task_queue,
        input, output, retry_initial_interval, retry_backoff_coefficient,
        retry_maximum_interval, retry_maximum_attempts, created_at, updated_at, started_at,
        finished_at)
    SELECT gen_random_uuid(), %(ns)s, 'bench.finished', 'COMPLETED', %(queue)s,
        '{"order":1}', '"done"', '1s', 2.0, '100s', 5, at, at, at, at
    FROM (SELECT now() - %(age)s - i * interval '1 microsecond' AS at
          FROM generate_series(1, %(runs)s) AS i) AS t
    RETURNING id, namespace_id, finished_at
)
INSERT INTO stepline_step_attempts (id, namespace_id, workflow_run_id, step_id, kind,
    status, attempt, output, worker_id, started_at, finished_at, created_at, updated_at)
SELECT gen_random_uuid(), namespace_id, id, 'charge', 'FUNCTION', 'COMPLETED', 1, '"ok"',
    'w', finished_at, finished_at, finished_at, finished_at
FROM runs
"""


async def seed_finished(url: str, ns: str, queue: str, runs: int, age: timedelta) -> None:
    """`runs` COMPLETED runs of namespace `ns` and `queue`, each with one step, that
    ended about `age` ago. Then the database is settled as a history grown over months
    would be: vacuumed and analyzed (plans see the table as it now is) and checkpointed,
    so that no measurement meets the bulk write's own aftermath (autovacuum of a million
    new rows, a checkpoint flushing them)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        left = runs
        while left > 0:
            chunk = min(left, CHUNK)
            values = {"ns": ns, "queue": queue, "runs": chunk, "age": age}
            await conn.execute(_RUNS_AND_STEPS, values)
            left -= chunk
        await conn.execute("VACUUM (ANALYZE) stepline_workflow_runs, stepline_step_attempts")
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            await conn.execute("CHECKPOINT")  # a superuser's (or pg_checkpoint's) only


async def count_runs(url: str, ns: str, workflow_name: str | None = None) -> int:
    """The namespace's runs (of one workflow only, if named)."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(
            "SELECT count(*) FROM stepline_workflow_runs WHERE namespace_id = %s"
            " AND (%s::text IS NULL OR workflow_name = %s)",
            [ns, workflow_name, workflow_name],
        )
        row = await cursor.fetchone()
        return int(row[0]) if row else 0
