"""Worker calls on step attempts: begin, complete, fail.

Begin and complete are single fenced statements (the hot path), and concurrent
completions are done together by one (group commit); fail ends the execution too, so
it runs in the locked transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage import rules
from storage.errors import LeaseLost, StepAttemptNotFound, StepNotRunning
from storage.ids import uuid7
from storage.postgres.attempts import (
    attempt_by_id,
    called_attempts,
    fail_attempt,
    insert_attempt,
    recorded,
)
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Database, Row, alone, arrays
from storage.postgres.endings import end_with_failure, ended
from storage.postgres.fencing import check_lease, fenced_ending
from storage.records import (
    RunStatus,
    StepAttempt,
    StepBeginParams,
    StepCompleteParams,
    StepFailParams,
    StepFailResult,
    StepStatus,
)
from storage.rows import NewAttempt, lease_params, run_from_row, step_from_row


async def begin(db: Database, params: StepBeginParams) -> StepAttempt:
    values = {
        **lease_params(params.lease, CODEC),
        "id": uuid7(),
        "step_id": params.step_id,
        "kind": params.kind.value,
        "config": params.config,
        "context": params.context,
    }
    rows = await db.fetch("step_begin", values)
    if not rows:
        await check_lease(db, params.lease)
        # A concurrent begin of the same step won the insert; read what it wrote.
        rows = await db.fetch("step_begin", {**values, "id": uuid7()})
        if not rows:  # pragma: no cover
            raise LeaseLost(params.lease.run_id, RunStatus.RUNNING)
    steps = (step_from_row(row, CODEC) for row in rows)
    step = rules.recorded_step(steps, params.step_id, params.kind)
    assert step is not None, "step_begin returned only attempts of this kind, none open"
    return step


async def complete(db: Database, params: StepCompleteParams) -> StepAttempt:
    if params.step_attempt_id is not None:
        return await _complete_attempt(db, params, params.step_attempt_id)
    return await _complete_by_step_id(db, params)


async def _complete_attempt(
    db: Database, params: StepCompleteParams, attempt_id: str
) -> StepAttempt:
    values = {
        **lease_params(params.lease, CODEC),
        "step_attempt_id": CODEC.id_param(attempt_id),
        "output": params.output,
    }
    row = await db.fetch_one("step_complete_attempt", values)
    if row is not None:
        return _completed(db, row)
    await check_lease(db, params.lease)
    found = await db.fetch_one("step_get", values)
    if found is None:
        raise StepAttemptNotFound(params.lease.run_id, attempt_id)
    step = step_from_row(found, CODEC)
    if rules.already_completed(step):
        return step
    raise StepNotRunning(step.step_attempt_id, step.status)  # pragma: no cover - raced


async def _complete_by_step_id(db: Database, params: StepCompleteParams) -> StepAttempt:
    step_id = rules.required_step_id(params.step_id)
    values = _by_step_id_params(params, step_id)
    for _ in range(2):
        row = await db.fetch_one("step_complete_by_step_id", values)
        if row is not None:
            return _completed(db, row)
        await check_lease(db, params.lease)
        existing = (step_from_row(row, CODEC) for row in await db.fetch("steps_of_step_id", values))
        step = rules.recorded_step(existing, step_id, params.kind)
        if step is not None and step.status is StepStatus.COMPLETED:
            return step  # memoized: the first output stands
        values["id"] = uuid7()
    raise LeaseLost(params.lease.run_id, RunStatus.RUNNING)  # pragma: no cover - raced


async def complete_many(
    db: Database, params: Sequence[StepCompleteParams]
) -> list[StepAttempt | Exception]:
    """complete for each call. Calls by step_id (the one-round-trip path) are done by one
    statement (group commit), fenced call by call; the others, and a second call for
    the same step in the batch, are done alone after it."""
    batch: list[int] = []
    seen: set[tuple[str, str | None]] = set()
    for n, call in enumerate(params):
        key = (call.lease.run_id, call.step_id)
        if call.step_attempt_id is None and call.step_id and key not in seen:
            seen.add(key)
            batch.append(n)
    done: dict[int, StepAttempt | Exception] = {}
    if batch:
        values = [_by_step_id_params(params[n], params[n].step_id or "") for n in batch]
        for row in await db.fetch("steps_complete_by_step_id", arrays(values)):
            done[batch[row["n"]]] = _completed(db, row)
    left = [n for n in range(len(params)) if n not in done]
    done.update(await alone(params, left, lambda p: complete(db, p)))
    return [done[n] for n in range(len(params))]


def _by_step_id_params(params: StepCompleteParams, step_id: str) -> dict[str, Any]:
    return {
        **lease_params(params.lease, CODEC),
        "id": uuid7(),
        "step_id": step_id,
        "kind": params.kind.value,
        "config": params.config,
        "context": params.context,
        "output": params.output,
    }


def _completed(db: Database, row: Row) -> StepAttempt:
    """A step attempt this call completed (not a memoized one)."""
    step = step_from_row(row, CODEC)
    db.events.step_ended(step.namespace_id, StepStatus.COMPLETED)
    return step


async def fail(db: Database, params: StepFailParams) -> StepFailResult:
    """Close (or record) the attempt FAILED, then end the execution like run_fail."""
    lease = params.lease
    async with fenced_ending(db, lease) as (conn, run_row, repeat):
        if repeat:
            attempts = await called_attempts(conn, lease.run_id, params)
            return rules.step_failed_again(run_from_row(run_row, CODEC), attempts, params)
        if params.step_attempt_id is not None:
            step = await _fail_by_id(conn, params, params.step_attempt_id)
        else:
            step = await _fail_by_step_id(conn, params, run_row)
        run = await end_with_failure(conn, lease, run_row, params.error)
    db.events.step_ended(step.namespace_id, StepStatus.FAILED)
    return StepFailResult(step=step, run=ended(db.events, run))


async def _fail_by_id(conn: Conn, params: StepFailParams, step_attempt_id: str) -> StepAttempt:
    attempt = await attempt_by_id(conn, params.lease.run_id, step_attempt_id)
    rules.ensure_failable(attempt)
    return await fail_attempt(conn, params.lease, attempt, params.error)


async def _fail_by_step_id(conn: Conn, params: StepFailParams, run_row: Row) -> StepAttempt:
    step_id = rules.required_step_id(params.step_id)
    existing = await recorded(conn, params.lease.run_id, step_id, params.kind)
    if existing is not None:
        rules.ensure_failable(existing)
        return await fail_attempt(conn, params.lease, existing, params.error)
    new = NewAttempt.failed(params, step_id)
    return await insert_attempt(conn, params.lease, run_row, new)
