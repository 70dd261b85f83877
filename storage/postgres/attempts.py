"""Step attempt rows inside a locked transaction: one step_id's history, new attempts,
and failing an open one."""

from __future__ import annotations

from storage import rules
from storage.errors import StepAttemptNotFound
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Row, fetch, fetch_one
from storage.records import Failure, Lease, StepAttempt, StepFailParams, StepKind
from storage.rows import NewAttempt, run_from_row, step_from_row, step_insert_params


async def recorded(conn: Conn, run_id: str, step_id: str, kind: StepKind) -> StepAttempt | None:
    """The step's COMPLETED attempt, else its open one (rules.recorded_step)."""
    return rules.recorded_step(await attempts_of(conn, run_id, step_id), step_id, kind)


async def attempts_of(conn: Conn, run_id: str, step_id: str) -> list[StepAttempt]:
    """Every attempt of the step."""
    values = {"run_id": CODEC.id_param(run_id), "step_id": step_id}
    return [step_from_row(row, CODEC) for row in await fetch(conn, "steps_of_step_id", values)]


async def called_attempts(conn: Conn, run_id: str, params: StepFailParams) -> list[StepAttempt]:
    """The attempts a FailStep names (rules.step_failed_again): its step_attempt_id's
    (none when there is no such attempt), else every attempt of its step_id."""
    if params.step_attempt_id is None:
        return await attempts_of(conn, run_id, rules.required_step_id(params.step_id))
    values = {
        "run_id": CODEC.id_param(run_id),
        "step_attempt_id": CODEC.id_param(params.step_attempt_id),
    }
    row = await fetch_one(conn, "step_get", values)
    return [] if row is None else [step_from_row(row, CODEC)]


async def insert_attempt(conn: Conn, lease: Lease, run_row: Row, new: NewAttempt) -> StepAttempt:
    """Record an attempt of the locked run, started now (`run_row`'s db_now)."""
    run = run_from_row(run_row, CODEC)
    values = step_insert_params(new, run, lease, run_row["db_now"], CODEC)
    row = await fetch_one(conn, "step_insert", values)
    assert row is not None
    return step_from_row(row, CODEC)


async def attempt_by_id(conn: Conn, run_id: str, step_attempt_id: str) -> StepAttempt:
    values = {"run_id": CODEC.id_param(run_id), "step_attempt_id": CODEC.id_param(step_attempt_id)}
    row = await fetch_one(conn, "step_get", values)
    if row is None:
        raise StepAttemptNotFound(run_id, step_attempt_id)
    return step_from_row(row, CODEC)


async def fail_attempt(
    conn: Conn, lease: Lease, attempt: StepAttempt, error: Failure
) -> StepAttempt:
    values = {
        "step_attempt_id": attempt.step_attempt_id,
        "error": rules.failure_to_json(error),
        "worker_id": lease.worker_id,
    }
    row = await fetch_one(conn, "step_fail_attempt", values)
    assert row is not None
    return step_from_row(row, CODEC)
