"""Fencing: a worker call writes only under the run's current, unexpired lease.

A single fenced statement carries the fence in its WHERE clause; when it changes
nothing, `check_lease` reads the run to say why. A locked transaction (`fenced`)
reads the run under its row lock and checks the lease before it writes.

A call that ends an execution may repeat the one that ended it (its answer was lost):
`fenced_ending` lets it in to compare with what was recorded, and `recorded_ending` is
the slow path of the single statements that end one (rules.repeats_ending).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import NoReturn

from storage import rules
from storage.errors import LeaseLost, RunNotFound, StoreError
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Database, Row, fetch_one
from storage.postgres.endings import fail_overdue_one
from storage.records import Lease, RunStatus
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


async def recorded_ending(db: Database, lease: Lease) -> Row:
    """The slow path of a single fenced statement that ends an execution and changed
    nothing: the run's whole row when the call may repeat the one that ended the lease's
    execution (rules.repeats_ending); otherwise raise why the lease may not write."""
    row = await db.fetch_one("run_recorded", lease_params(lease, CODEC))
    error = verdict(lease, row)
    if row is not None and _repeats(lease, row, error):
        return row
    if error is None:  # pragma: no cover - a lease never revives
        raise LeaseLost(lease.run_id, RunStatus.RUNNING)
    await refuse(db, lease, row, error)


def _repeats(lease: Lease, row: Row, error: StoreError | None) -> bool:
    state = lease_state_from_row(row, CODEC)
    return rules.repeats_ending(error, state, lease.lease_id)


@contextlib.asynccontextmanager
async def fenced(db: Database, lease: Lease) -> AsyncIterator[tuple[Conn, Row]]:
    """A transaction holding the run's row lock, entered only when `lease` is current."""
    async with _locked(db, lease, repeats=False) as (conn, row, _):
        yield conn, row


@contextlib.asynccontextmanager
async def fenced_ending(db: Database, lease: Lease) -> AsyncIterator[tuple[Conn, Row, bool]]:
    """`fenced` for a call that ends an execution: entered too when the call may repeat
    the one that ended the lease's execution (rules.repeats_ending), with `repeat` True;
    the caller then compares its request with what was recorded and changes nothing."""
    async with _locked(db, lease, repeats=True) as entered:
        yield entered


@contextlib.asynccontextmanager
async def _locked(
    db: Database, lease: Lease, *, repeats: bool
) -> AsyncIterator[tuple[Conn, Row, bool]]:
    async with db.transaction() as conn:
        row = await fetch_one(conn, "run_lock", lease_params(lease, CODEC))
        error = verdict(lease, row)
        repeat = repeats and row is not None and _repeats(lease, row, error)
        if row is not None and (error is None or repeat):
            yield conn, row, repeat
            return
    assert error is not None
    await refuse(db, lease, row, error)
