"""The populations of `bench.batches`, written in bulk by SQL straight into a migrated
database (through the API, 100,000 finished runs with their steps would take longer than
the benchmark itself):

- `runs` PENDING runs on the queue CANCEL_QUEUE, due in a day (so no claim takes them);
- `runs` FAILED runs on the queue REPLAY_QUEUE, each with the history of a run that
  failed at its third step: s1 COMPLETED, s2 COMPLETED, s3 FAILED.

Both are in NAMESPACE, created in order a millisecond apart, before the batches begin.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from contextlib import closing

import psycopg

from bench.schema import migrate_with_namespace
from storage import sqlite_path_from_url

NAMESPACE = "bench"
CANCEL_QUEUE = "bulk-cancel"
REPLAY_QUEUE = "bulk-replay"
FAILING_STEP = "s3"
_HISTORY = (("s1", "COMPLETED"), ("s2", "COMPLETED"), ("s3", "FAILED"))
_ERROR = json.dumps({"type": "Bug", "message": "s3 broke", "non_retryable": True})
_POLICY = (1_000_000, 2.0, 100_000_000, 5)  # SQLite: microseconds


async def seed(database_url: str, runs: int) -> None:
    """Migrate the database, then write both populations."""
    await migrate_with_namespace(database_url, NAMESPACE)
    if database_url.startswith("sqlite:"):
        _seed_sqlite(database_url, runs)
    else:
        await _seed_postgres(database_url, runs)


def _seed_sqlite(url: str, runs: int) -> None:
    now = time.time_ns() // 1000
    first = now - 2 * runs * 1000
    run_rows, step_rows = [], []
    for i in range(runs):
        created = first + i * 1000
        run_rows.append(_sqlite_run("bulk.cancel", "PENDING", CANCEL_QUEUE, created, now))
        run_id = str(uuid.uuid4())
        run_rows.append(_sqlite_run("bulk.replay", "FAILED", REPLAY_QUEUE, created, now, run_id))
        for k, (step_id, status) in enumerate(_HISTORY):
            error = _ERROR if status == "FAILED" else None
            output = '"ok"' if status == "COMPLETED" else None
            at = created + k + 1
            step_rows.append(
                (str(uuid.uuid4()), NAMESPACE, run_id, step_id, status, output, error, at)
            )
    with closing(sqlite3.connect(sqlite_path_from_url(url))) as conn, conn:
        conn.executemany(
            "INSERT INTO stepline_workflow_runs (id, namespace_id, workflow_name, status,"
            " task_queue, input, context, error, attempt, retry_initial_interval,"
            " retry_backoff_coefficient, retry_maximum_interval, retry_maximum_attempts,"
            " created_at, updated_at, available_at, finished_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
            run_rows,
        )
        conn.executemany(
            "INSERT INTO stepline_step_attempts (id, namespace_id, workflow_run_id, step_id,"
            " kind, status, attempt, output, error, worker_id, started_at, finished_at,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, 'FUNCTION', ?, 1, ?, ?, 'w', ?8, ?8,"
            " ?8, ?8)",
            step_rows,
        )


def _sqlite_run(
    workflow: str, status: str, queue: str, created: int, now: int, run_id: str | None = None
) -> tuple[object, ...]:
    failed = status == "FAILED"
    return (
        run_id or str(uuid.uuid4()),
        NAMESPACE,
        workflow,
        status,
        queue,
        '{"order":1}',
        '{"tenant":"t1"}',
        _ERROR if failed else None,
        *_POLICY,
        created,
        created,
        None if failed else now + 86_400_000_000,
        created if failed else None,
    )


_PG_RUNS = """
INSERT INTO stepline_workflow_runs (id, namespace_id, workflow_name, status, task_queue,
    input, context, error, retry_initial_interval, retry_backoff_coefficient,
    retry_maximum_interval, retry_maximum_attempts, created_at, updated_at, available_at,
    finished_at)
SELECT gen_random_uuid(), %(ns)s, %(workflow)s, %(status)s, %(queue)s, '{"order":1}',
    '{"tenant":"t1"}', %(error)s::json, '1s', 2.0, '100s', 5, at, at,
    CASE WHEN %(status)s = 'PENDING' THEN now() + interval '1 day' END,
    CASE WHEN %(status)s = 'FAILED' THEN at END
FROM (SELECT now() - (%(runs)s - i) * interval '1 millisecond' AS at
      FROM generate_series(1, %(runs)s) AS i) AS t
"""
_PG_STEPS = """
INSERT INTO stepline_step_attempts (id, namespace_id, workflow_run_id, step_id, kind,
    status, attempt, output, error, worker_id, started_at, finished_at, created_at,
    updated_at)
SELECT gen_random_uuid(), r.namespace_id, r.id, h.step_id, 'FUNCTION', h.status, 1,
    CASE WHEN h.status = 'COMPLETED' THEN '"ok"'::json END,
    CASE WHEN h.status = 'FAILED' THEN %(error)s::json END, 'w',
    r.created_at + h.k * interval '1 microsecond', r.created_at + h.k * interval '1 microsecond',
    r.created_at + h.k * interval '1 microsecond', r.created_at + h.k * interval '1 microsecond'
FROM stepline_workflow_runs AS r
CROSS JOIN (VALUES (1, 's1', 'COMPLETED'), (2, 's2', 'COMPLETED'), (3, 's3', 'FAILED'))
    AS h(k, step_id, status)
WHERE r.namespace_id = %(ns)s AND r.task_queue = %(queue)s
"""


async def _seed_postgres(url: str, runs: int) -> None:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for workflow, status, queue in (
            ("bulk.cancel", "PENDING", CANCEL_QUEUE),
            ("bulk.replay", "FAILED", REPLAY_QUEUE),
        ):
            error = _ERROR if status == "FAILED" else None
            values = {"ns": NAMESPACE, "workflow": workflow, "status": status, "queue": queue}
            await conn.execute(_PG_RUNS, {**values, "error": error, "runs": runs})
        await conn.execute(_PG_STEPS, {"ns": NAMESPACE, "queue": REPLAY_QUEUE, "error": _ERROR})
        await conn.commit()
        await conn.execute("ANALYZE")
        await conn.commit()
