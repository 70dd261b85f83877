"""How an execution ends: retried, failed, parked; runs failed by their deadline.

Functions taking a `conn` run inside the caller's locked transaction (fencing.fenced):
the run's row is locked and the lease checked. Whenever a run leaves RUNNING, its open
step attempts are closed FAILED with a Failure saying why.
"""

from __future__ import annotations

from datetime import datetime

from storage import rules
from storage.errors import LeaseLost
from storage.events import StoreEvents
from storage.postgres.database import Conn, Database, Q, Row, fetch_one, lease_params
from storage.postgres.rows import run_from_row
from storage.records import Failure, Lease, Run, RunStatus

DEADLINE_ERROR = rules.failure_to_json(rules.DEADLINE_FAILURE)
LEASE_EXPIRED_ERROR = rules.failure_to_json(rules.LEASE_EXPIRED_FAILURE)
ABANDONED_ERROR = rules.failure_to_json(rules.ABANDONED_FAILURE)


async def close_open_steps(conn: Conn, run_id: str, error: str) -> None:
    """Fail the run's open attempts with `error` (the run leaves RUNNING)."""
    await conn.execute(Q["steps_close_open"], {"run_id": run_id, "error": error})


async def end_with_failure(conn: Conn, lease: Lease, run_row: Row, error: Failure) -> Run:
    """Retry the run by its policy (PENDING, attempt + 1), or fail it for good."""
    await close_open_steps(conn, lease.run_id, ABANDONED_ERROR)
    run = run_from_row(run_row)
    now: datetime = run_row["db_now"]
    at = rules.retry_at(run.retry_policy, run.attempt, run.deadline_at, error, now)
    if at is None:
        return await end_execution(
            conn, lease, run_row, RunStatus.FAILED, error=error, finished_at=now
        )
    return await end_execution(
        conn,
        lease,
        run_row,
        RunStatus.PENDING,
        error=error,
        attempt=run.attempt + 1,
        available_at=at,
    )


async def end_execution(
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


async def fail_overdue(db: Database, limit: int) -> int:
    """The sweep: fail up to `limit` runs past their deadline; return how many."""
    rows = await db.fetch("run_fail_overdue", {"limit": limit, "error": DEADLINE_ERROR})
    return overdue_failed(db.events, rows)


async def fail_overdue_one(db: Database, run_id: str) -> None:
    """Fail the run if it is still active and past its deadline."""
    values = {"run_id": run_id, "error": DEADLINE_ERROR}
    overdue_failed(db.events, await db.fetch("run_fail_overdue_one", values))


def overdue_failed(events: StoreEvents, rows: list[Row]) -> int:
    """Report the runs a deadline statement failed (rows grouped by workflow); how many."""
    for row in rows:
        for _ in range(row["failed"]):
            events.run_ended(row["namespace_id"], row["workflow_name"], RunStatus.FAILED)
    return sum(int(row["failed"]) for row in rows)


def ended(events: StoreEvents, run: Run) -> Run:
    """Report `run` if the call that returned it ended it."""
    if run.status.is_terminal:
        events.run_ended(run.namespace_id, run.workflow_name, run.status)
    return run
