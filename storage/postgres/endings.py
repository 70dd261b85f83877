"""How an execution ends: retried, failed, parked; runs failed by their deadline.

Functions taking a `conn` run inside the caller's locked transaction (fencing.fenced):
the run's row is locked and the lease checked. Whenever a run leaves RUNNING, its open
step attempts are closed FAILED with a Failure saying why.
"""

from __future__ import annotations

from storage import rules
from storage.errors import LeaseLost
from storage.events import StoreEvents
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Database, Q, Row, fetch_one
from storage.records import Failure, Lease, Run, RunStatus
from storage.rows import end_execution_params, run_from_row
from storage.rules import ABANDONED_ERROR, DEADLINE_ERROR


async def close_open_steps(conn: Conn, run_id: str, error: str) -> None:
    """Fail the run's open attempts with `error` (the run leaves RUNNING)."""
    await conn.execute(Q["steps_close_open"], {"run_id": run_id, "error": error})


async def end_with_failure(conn: Conn, lease: Lease, run_row: Row, error: Failure) -> Run:
    """Retry the run by its policy (PENDING, attempt + 1), or fail it for good."""
    await close_open_steps(conn, lease.run_id, ABANDONED_ERROR)
    run = run_from_row(run_row, CODEC)
    return await end_execution(conn, lease, rules.failed_ending(run, error, run_row["db_now"]))


async def end_execution(conn: Conn, lease: Lease, ending: rules.Ending) -> Run:
    """End the lease's execution: the run leaves RUNNING by `ending`."""
    row = await fetch_one(conn, "run_end_execution", end_execution_params(lease, ending, CODEC))
    if row is None:  # pragma: no cover - the row lock makes this unreachable
        raise LeaseLost(lease.run_id, RunStatus.RUNNING)
    if ending.status in (RunStatus.PENDING, RunStatus.SLEEPING):
        await conn.execute(
            Q["run_notify"],
            {"namespace_id": row["namespace_id"], "task_queue": row["task_queue"]},
        )
    return run_from_row(row, CODEC)


async def fail_overdue(db: Database, limit: int) -> int:
    """The sweep: fail up to `limit` runs past their deadline; return how many."""
    rows = await db.fetch("run_fail_overdue", {"limit": limit, "error": DEADLINE_ERROR})
    return _deadline_failed(db.events, rows)


async def fail_overdue_one(db: Database, run_id: str) -> None:
    """Fail the run if it is still active and past its deadline."""
    values = {"run_id": run_id, "error": DEADLINE_ERROR}
    _deadline_failed(db.events, await db.fetch("run_fail_overdue_one", values))


def _deadline_failed(events: StoreEvents, rows: list[Row]) -> int:
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
