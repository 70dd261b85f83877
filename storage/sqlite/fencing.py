"""Fencing: a worker call writes only under the run's current, unexpired lease.

The call reads the run under the write lock (BEGIN IMMEDIATE) and checks the lease
before its first write; the statements that write the run repeat the fence. A call that
ends an execution may repeat the one that ended it (its answer was lost): `fence_ending`
lets it in to compare with what was recorded (rules.repeats_ending).
"""

from __future__ import annotations

import sqlite3
from typing import NoReturn

from storage import rules
from storage.errors import RunNotFound, StoreError
from storage.records import Lease, Run
from storage.rows import lease_state_from_row, run_from_row
from storage.sqlite.codec import CODEC
from storage.sqlite.database import CommitThenRaise, Tx
from storage.sqlite.endings import fail_overdue_one


def fence(tx: Tx, lease: Lease) -> Run:
    """The run `lease` holds, or raise why the call may not write (changing nothing).
    Must come before the call's first write: a deadline failure commits what came before."""
    return run_from_row(enforce(tx, lease, lease_row(tx, lease)), CODEC)


def fence_ending(tx: Tx, lease: Lease) -> tuple[Run, bool]:
    """`fence` for a call that ends an execution: the run, and whether the call may repeat
    the one that ended the lease's execution (rules.repeats_ending), which the caller then
    compares with what was recorded, changing nothing."""
    row = lease_row(tx, lease)
    error = verdict(tx, lease, row)
    repeat = rules.repeats_ending(error, lease_state(row), lease.lease_id)
    if row is not None and (error is None or repeat):
        return run_from_row(row, CODEC), repeat
    refuse(tx, lease, row, error or RunNotFound(lease.namespace_id, lease.run_id))


def lease_row(tx: Tx, lease: Lease) -> sqlite3.Row | None:
    return tx.row("run_get", namespace_id=lease.namespace_id, run_id=lease.run_id)


def lease_state(row: sqlite3.Row | None) -> rules.LeaseState | None:
    return None if row is None else lease_state_from_row(row, CODEC)


def enforce(tx: Tx, lease: Lease, row: sqlite3.Row | None) -> sqlite3.Row:
    """The run's row when the lease may write; otherwise raise by rules.lease_error."""
    error = verdict(tx, lease, row)
    if error is None and row is not None:
        return row
    refuse(tx, lease, row, error or RunNotFound(lease.namespace_id, lease.run_id))


def verdict(tx: Tx, lease: Lease, row: sqlite3.Row | None) -> StoreError | None:
    """rules.lease_error for the run's row (None: no such run), by the transaction's clock."""
    state = lease_state(row)
    return rules.lease_error(lease.namespace_id, lease.run_id, lease.lease_id, state, tx.now_at)


def refuse(tx: Tx, lease: Lease, row: sqlite3.Row | None, error: StoreError) -> NoReturn:
    """Raise `error`; an active run past its deadline is failed (and committed) first."""
    if rules.fails_run_first(error, lease_state(row)):
        fail_overdue_one(tx, lease.run_id)
        raise CommitThenRaise(error)
    raise error
