"""Step attempt rows inside a locked transaction: one step_id's history, new attempts,
and failing an open one."""

from __future__ import annotations

from datetime import datetime

from storage import rules
from storage.errors import StepAttemptNotFound
from storage.ids import uuid7
from storage.postgres.database import Conn, Row, db_uuid, fetch, fetch_one, lease_params
from storage.postgres.rows import step_from_row
from storage.records import Failure, Lease, StepAttempt, StepKind, StepStatus


async def recorded(conn: Conn, run_id: str, step_id: str, kind: StepKind) -> StepAttempt | None:
    """The step's COMPLETED attempt, else its open one (rules.recorded_step)."""
    rows = await fetch(conn, "steps_of_step_id", {"run_id": db_uuid(run_id), "step_id": step_id})
    return rules.recorded_step(map(step_from_row, rows), step_id, kind)


async def insert_attempt(
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


async def attempt_by_id(conn: Conn, run_id: str, step_attempt_id: str) -> StepAttempt:
    row = await fetch_one(
        conn,
        "step_get",
        {"run_id": db_uuid(run_id), "step_attempt_id": db_uuid(step_attempt_id)},
    )
    if row is None:
        raise StepAttemptNotFound(run_id, step_attempt_id)
    return step_from_row(row)


async def fail_attempt(
    conn: Conn, lease: Lease, attempt: StepAttempt, error: Failure
) -> StepAttempt:
    row = await fetch_one(
        conn,
        "step_fail_attempt",
        {
            "step_attempt_id": attempt.step_attempt_id,
            "error": rules.failure_to_json(error),
            "worker_id": lease.worker_id,
        },
    )
    assert row is not None
    return step_from_row(row)
