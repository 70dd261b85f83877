"""Fencing: a worker call writes only under the run's current, unexpired lease.

A single fenced statement carries the fence in its WHERE clause; when it changes
nothing, `check_lease` reads the run to say why. A locked transaction (`fenced`)
reads the run under its row lock and checks the lease before it writes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import NoReturn

from storage import rules
from storage.errors import RunNotFound, StoreError
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Database, Row, fetch_one
from storage.postgres.endings import fail_overdue_one
from storage.records import Lease
from storage.rows import lease_params, lease_state_from_row


def verdict(lease: Lease, row: Row | None) -> StoreError | None:
    """rules.lease_error for a run_lease_state or run_lock row (None: no such run)."""
    if row is None:
        return RunNotFound(lease.namespace_id, lease.run_id)
    state = lease_state_from_row(row, CODEC)
    return rules.lease_error(lease.namespace_id, lease.run_id, lease.lease_id, state, row["db_now"])


async def lease_state(db: Database, lease: Lease) -> Row | None:
    """The run's run_lease_state row: why a fenced statement changed nothing."""
    return await db.fetch_one("run_lease_state", lease_params(lease, CODEC))


async def check_lease(db: Database, lease: Lease) -> None:
    """Raise why `lease` may not write; return when it may."""
    row = await lease_state(db, lease)
    error = verdict(lease, row)
    if error is not None:
        await refuse(db, lease, row, error)


async def refuse(db: Database, lease: Lease, row: Row | None, error: StoreError) -> NoReturn:
    """Raise `error`; an active run past its deadline is failed first."""
    state = None if row is None else lease_state_from_row(row, CODEC)
    if rules.fails_run_first(error, state):
        await fail_overdue_one(db, lease.run_id)
    raise error


@contextlib.asynccontextmanager
async def fenced(db: Database, lease: Lease) -> AsyncIterator[tuple[Conn, Row]]:
    """A transaction holding the run's row lock, entered only when `lease` is current."""
    async with db.transaction() as conn:
        row = await fetch_one(conn, "run_lock", lease_params(lease, CODEC))
        error = verdict(lease, row)
        if error is None and row is not None:
            yield conn, row
            return
    assert error is not None
    await refuse(db, lease, row, error)
