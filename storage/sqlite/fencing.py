"""Fencing: a worker call writes only under the run's current, unexpired lease."""

from __future__ import annotations

import sqlite3

from storage.errors import RunDeadlineExceeded, RunNotFound
from storage.records import Lease, Run, RunStatus
from storage.rules import LeaseState, failure_from_json, lease_error
from storage.sqlite.codec import moment_or_none, run_from_row
from storage.sqlite.database import CommitThenRaise, Tx
from storage.sqlite.endings import fail_overdue_one


def fence(tx: Tx, lease: Lease) -> Run:
    """The run `lease` holds, or raise why the call may not write (changing nothing).
    Must come before the call's first write: a deadline failure commits what came before."""
    return run_from_row(enforce(tx, lease, lease_row(tx, lease)))


def lease_row(tx: Tx, lease: Lease) -> sqlite3.Row | None:
    return tx.row("run_get", namespace_id=lease.namespace_id, run_id=lease.run_id)


def enforce(tx: Tx, lease: Lease, row: sqlite3.Row | None) -> sqlite3.Row:
    """The run's row when the lease may write; otherwise raise by rules.lease_error."""
    state = None if row is None else lease_state(row)
    error = lease_error(lease.namespace_id, lease.run_id, lease.lease_id, state, tx.now_at)
    if error is None and row is not None:
        return row
    if isinstance(error, RunDeadlineExceeded) and state and not state.status.is_terminal:
        # The overdue run is failed and committed, then the worker is told why.
        fail_overdue_one(tx, lease.run_id)
        raise CommitThenRaise(error)
    raise error or RunNotFound(lease.namespace_id, lease.run_id)


def lease_state(row: sqlite3.Row) -> LeaseState:
    error = failure_from_json(row["error"])
    return LeaseState(
        status=RunStatus(row["status"]),
        lease_id=row["lease_id"],
        lease_expires_at=moment_or_none(row["lease_expires_at"]),
        deadline_at=moment_or_none(row["deadline_at"]),
        error_type=None if error is None else error.type,
    )


def canceled_under(row: sqlite3.Row | None, lease: Lease) -> bool:
    """The run was canceled while `lease` held it."""
    return (
        row is not None
        and row["status"] == RunStatus.CANCELED.value
        and row["lease_id"] == lease.lease_id
    )
