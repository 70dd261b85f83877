"""Statements and transaction steps of the PostgreSQL backend, shared by its Store methods.

Functions taking a `conn` run inside the caller's transaction; those that end an
execution expect the run's row to be locked (`run_lock`) and the lease checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg

from storage import rules
from storage.errors import (
    LeaseLost,
    StepAlreadyCompleted,
    StepAttemptNotFound,
    StepNotRunning,
)
from storage.ids import uuid7
from storage.postgres.rows import Row, run_from_row, step_from_row
from storage.records import (
    ClaimedRun,
    Failure,
    Lease,
    Run,
    RunStatus,
    StepAttempt,
    StepFailParams,
    StepKind,
    StepStatus,
)
from storage.sqlfile import load_queries

Conn = psycopg.AsyncConnection[Row]

Q = load_queries("storage.postgres")

DEADLINE_ERROR = rules.failure_to_json(rules.DEADLINE_FAILURE)
LEASE_EXPIRED_ERROR = rules.failure_to_json(rules.LEASE_EXPIRED_FAILURE)
ABANDONED_ERROR = rules.failure_to_json(rules.ABANDONED_FAILURE)


NIL_UUID = "00000000-0000-0000-0000-000000000000"


_UUID = re.compile(r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")


def db_uuid(value: str) -> str:
    """`value` when PostgreSQL reads it as a uuid, else the nil UUID, which no row has:
    a malformed ID finds nothing (and raises the matching not-found or lease error)
    instead of failing the query's uuid cast."""
    return value if _UUID.fullmatch(value) else NIL_UUID


def lease_params(lease: Lease) -> dict[str, Any]:
    return {
        "namespace_id": lease.namespace_id,
        "run_id": db_uuid(lease.run_id),
        "lease_id": db_uuid(lease.lease_id),
        "worker_id": lease.worker_id,
    }


async def fetch(conn: Conn, query: str, params: Mapping[str, Any]) -> list[Row]:
    """Run the named query of queries.sql."""
    return await fetch_sql(conn, Q[query], params)


async def fetch_sql(conn: Conn, statement: str, params: Mapping[str, Any]) -> list[Row]:
    cur = await conn.execute(statement.encode(), params)
    return await cur.fetchall() if cur.description else []


async def fetch_one(conn: Conn, query: str, params: Mapping[str, Any]) -> Row | None:
    rows = await fetch(conn, query, params)
    return rows[0] if rows else None


def required_step_id(step_id: str | None) -> str:
    if not step_id:
        raise ValueError("step_id is required without step_attempt_id")
    return step_id


def claimed_runs(rows: list[Row], steps: list[Row]) -> list[ClaimedRun]:
    by_run: dict[str, list[StepAttempt]] = {r["id"]: [] for r in rows}
    for step in steps:
        by_run[step["workflow_run_id"]].append(step_from_row(step))
    return [
        ClaimedRun(
            run=run_from_row(row),
            lease_id=row["lease_id"],
            lease_expires_at=row["lease_expires_at"],
            steps=by_run[row["id"]],
        )
        for row in rows
    ]


async def insert_step(
    conn: Conn,
    lease: Lease,
    run_row: Row,
    *,
    step_id: str,
    kind: StepKind,
    status: StepStatus,
    config: str | None = None,
    context: str | None = None,
    output: str | None = None,
    error: Failure | None = None,
    wake_up_at: datetime | None = None,
    finished_at: datetime | None = None,
) -> StepAttempt:
    row = await fetch_one(
        conn,
        "step_insert",
        {
            **lease_params(lease),
            "id": uuid7(),
            "namespace_id": run_row["namespace_id"],
            "step_id": step_id,
            "kind": kind.value,
            "status": status.value,
            "config": config,
            "context": context,
            "output": output,
            "error": rules.failure_to_json(error) if error else None,
            "wake_up_at": wake_up_at,
            "finished_at": finished_at,
        },
    )
    assert row is not None
    return step_from_row(row)


async def fail_step(conn: Conn, params: StepFailParams, run_row: Row) -> StepAttempt:
    """Mark the attempt FAILED, or record a failed attempt of the step_id."""
    lease = params.lease
    if params.step_attempt_id is not None:
        found = await fetch_one(
            conn,
            "step_get",
            {"run_id": db_uuid(lease.run_id), "step_attempt_id": db_uuid(params.step_attempt_id)},
        )
        if found is None:
            raise StepAttemptNotFound(lease.run_id, params.step_attempt_id)
        open_step = step_from_row(found)
    else:
        step_id = required_step_id(params.step_id)
        existing = await fetch(
            conn, "steps_by_step_id", {"run_id": db_uuid(lease.run_id), "step_id": step_id}
        )
        recorded = rules.recorded_step(map(step_from_row, existing), step_id, params.kind)
        if recorded is None:
            return await insert_step(
                conn,
                lease,
                run_row,
                step_id=step_id,
                kind=params.kind,
                status=StepStatus.FAILED,
                config=params.config,
                context=params.context,
                error=params.error,
                finished_at=run_row["db_now"],
            )
        open_step = recorded
    if open_step.status is StepStatus.COMPLETED:
        raise StepAlreadyCompleted(open_step.step_id, open_step.step_attempt_id)
    if open_step.status is not StepStatus.RUNNING:
        raise StepNotRunning(open_step.step_attempt_id, open_step.status)
    row = await fetch_one(
        conn,
        "step_fail_attempt",
        {
            "step_attempt_id": open_step.step_attempt_id,
            "error": rules.failure_to_json(params.error),
            "worker_id": lease.worker_id,
        },
    )
    assert row is not None
    return step_from_row(row)


async def close_open_steps(
    conn: Conn, run_id: str, error: str, except_id: StepAttempt | None
) -> None:
    await conn.execute(
        Q["steps_close_open"],
        {
            "run_id": run_id,
            "error": error,
            "except_id": except_id.step_attempt_id if except_id else None,
        },
    )


async def end_execution(
    conn: Conn, lease: Lease, run_row: Row, error: Failure, keep: StepAttempt | None
) -> Run:
    """Retry the run by its policy, or fail it for good."""
    await close_open_steps(conn, lease.run_id, ABANDONED_ERROR, except_id=keep)
    run = run_from_row(run_row)
    now: datetime = run_row["db_now"]
    at = rules.retry_at(run.retry_policy, run.attempt, run.deadline_at, error, now)
    if at is None:
        return await release(conn, lease, run_row, RunStatus.FAILED, error=error, finished_at=now)
    return await release(
        conn,
        lease,
        run_row,
        RunStatus.PENDING,
        error=error,
        attempt=run.attempt + 1,
        available_at=at,
    )


async def release(
    conn: Conn,
    lease: Lease,
    run_row: Row,
    status: RunStatus,
    *,
    error: Failure | None = None,
    attempt: int | None = None,
    finished_at: datetime | None = None,
    wake_up_at: datetime | None = None,
    available_at: datetime | None = None,
) -> Run:
    """End the lease's execution: the run leaves RUNNING for `status`."""
    row = await fetch_one(
        conn,
        "run_end_execution",
        {
            **lease_params(lease),
            "status": status.value,
            "attempt": attempt if attempt is not None else run_row["attempt"],
            "error": rules.failure_to_json(error) if error else None,
            "finished_at": finished_at,
            "wake_up_at": wake_up_at,
            "available_at": available_at,
        },
    )
    if row is None:  # pragma: no cover - the row lock makes this unreachable
        raise LeaseLost(lease.run_id, RunStatus(run_row["status"]))
    if status in (RunStatus.PENDING, RunStatus.SLEEPING):
        await conn.execute(
            Q["run_notify"],
            {"namespace_id": row["namespace_id"], "task_queue": row["task_queue"]},
        )
    return run_from_row(row)
