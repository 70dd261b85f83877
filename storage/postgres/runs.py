"""Client calls on runs: create, get, cancel. Each is one statement (a cancel: one
transaction, its locks first); concurrent creates are inserted together by one (group
commit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage import rules
from storage.errors import (
    IdempotencyConflict,
    RunAlreadyTerminal,
    RunNotFound,
    StorageUnavailable,
    StoreError,
)
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Database, alone, arrays, fetch, fetch_one
from storage.postgres.endings import ended
from storage.records import (
    Run,
    RunCancelParams,
    RunCreateParams,
    RunCreateResult,
    RunGetParams,
    RunStatus,
)
from storage.rows import run_from_row, run_insert_params, run_read_from_row


async def create(db: Database, params: RunCreateParams) -> RunCreateResult:
    values = run_insert_params(params, CODEC)
    row = await db.fetch_one("run_insert", values)
    if row is not None:
        return RunCreateResult(run=run_from_row(row, CODEC), existing=False)
    # The key was taken: ON CONFLICT waited for the other insert to commit.
    existing = await db.fetch_one("run_by_idempotency_key", values)
    if existing is None:  # pragma: no cover - keys are never deleted
        raise StoreError("idempotency key conflict on a run that no longer exists")
    run = run_read_from_row(existing, CODEC)
    if run.workflow_name != params.workflow_name:
        raise IdempotencyConflict(params.idempotency_key or "", run.run_id, run.workflow_name)
    return RunCreateResult(run=run, existing=True)


async def create_many(
    db: Database, params: Sequence[RunCreateParams]
) -> list[RunCreateResult | Exception]:
    """create for each start, the new runs inserted by one statement (group commit)."""
    rows = await db.fetch("runs_insert", arrays([run_insert_params(p, CODEC) for p in params]))
    done: dict[int, RunCreateResult | Exception] = {
        row["n"]: RunCreateResult(run_from_row(row, CODEC), existing=False) for row in rows
    }
    left = [n for n in range(len(params)) if n not in done]
    done.update(await alone(params, left, lambda p: create(db, p)))
    return [done[n] for n in range(len(params))]


async def get(db: Database, params: RunGetParams) -> Run:
    """The run as a client reads it, with its replay_count."""
    row = await db.fetch_one(
        "run_read", {"namespace_id": params.namespace_id, "run_id": CODEC.id_param(params.run_id)}
    )
    if row is None:
        raise RunNotFound(params.namespace_id, params.run_id)
    return run_read_from_row(row, CODEC)


async def cancel(db: Database, params: RunCancelParams) -> Run:
    error = rules.failure_to_json(rules.cancel_failure(params.reason))
    ref = {"namespace_id": params.namespace_id, "run_id": CODEC.id_param(params.run_id)}
    row = None
    for _ in range(_CANCEL_TRIES):
        async with db.transaction() as conn:
            if await _lock_tree(conn, ref):
                row = await fetch_one(conn, "run_cancel", {**ref, "error": error})
                break
    else:
        raise StorageUnavailable("the run's children kept changing during its cancel")
    if row is not None:
        return ended(db.events, run_from_row(row, CODEC))
    run = await get(db, RunGetParams(params.namespace_id, params.run_id))
    if run.status is RunStatus.CANCELED:
        return run
    raise RunAlreadyTerminal(run.run_id, run.status)


# A cancel starts again when a child appeared while it took its locks: each time needs a
# RegisterWaits of the run (or of a descendant) to commit within those few statements.
_CANCEL_TRIES = 20


async def _lock_tree(conn: Conn, ref: dict[str, Any]) -> bool:
    """Lock the runs a cancel cancels (its active descendants, deepest first), then the run,
    in the order a child's end takes them (its row, then its parent's): the cancel and a
    child ending at once take turns instead of deadlocking. False when a child appeared
    meanwhile, not locked: the caller rolls back (locking it now, after the parent, could
    deadlock with that child's end) and tries again."""
    locked = {row["id"] for row in await fetch(conn, "run_cancel_lock_tree", ref)}
    await fetch(conn, "run_lock_any", ref)
    now = {row["id"] for row in await fetch(conn, "run_active_descendants", ref)}
    return now <= locked
