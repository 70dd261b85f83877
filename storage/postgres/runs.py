"""Client calls on runs: create, get, cancel. Each is one statement; concurrent creates
are inserted together by one (group commit)."""

from __future__ import annotations

from collections.abc import Sequence

from storage import rules
from storage.errors import IdempotencyConflict, RunAlreadyTerminal, RunNotFound, StoreError
from storage.postgres.codec import CODEC
from storage.postgres.database import Database, alone, arrays
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
    row = await db.fetch_one("run_cancel", {**ref, "error": error})
    if row is not None:
        return ended(db.events, run_from_row(row, CODEC))
    run = await get(db, RunGetParams(params.namespace_id, params.run_id))
    if run.status is RunStatus.CANCELED:
        return run
    raise RunAlreadyTerminal(run.run_id, run.status)
