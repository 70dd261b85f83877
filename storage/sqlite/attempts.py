"""Step attempt rows: one step_id's history, new attempts, and closing an open one."""

from __future__ import annotations

from storage import rules
from storage.errors import StepAttemptNotFound
from storage.records import Failure, Json, Lease, Run, StepAttempt, StepFailParams, StepKind
from storage.rows import NewAttempt, step_from_row, step_insert_params
from storage.sqlite.codec import CODEC
from storage.sqlite.database import Tx


def recorded(tx: Tx, run_id: str, step_id: str, kind: StepKind) -> StepAttempt | None:
    """The step's COMPLETED attempt, else its open one (rules.recorded_step)."""
    return rules.recorded_step(attempts_of(tx, run_id, step_id), step_id, kind)


def attempts_of(tx: Tx, run_id: str, step_id: str) -> list[StepAttempt]:
    """Every attempt of the step."""
    rows = tx.rows("steps_of_step_id", run_id=run_id, step_id=step_id)
    return [step_from_row(row, CODEC) for row in rows]


def called_attempts(tx: Tx, run_id: str, params: StepFailParams) -> list[StepAttempt]:
    """The attempts a FailStep names (rules.step_failed_again): its step_attempt_id's
    (none when there is no such attempt), else every attempt of its step_id."""
    if params.step_attempt_id is None:
        return attempts_of(tx, run_id, rules.required_step_id(params.step_id))
    row = tx.row("step_get", run_id=run_id, step_attempt_id=params.step_attempt_id)
    return [] if row is None else [step_from_row(row, CODEC)]


def insert_attempt(tx: Tx, run: Run, lease: Lease, new: NewAttempt) -> StepAttempt:
    """Record an attempt of `run`, started now."""
    row = tx.one("step_insert", **step_insert_params(new, run, lease, tx.now_at, CODEC))
    return step_from_row(row, CODEC)


def attempt_by_id(tx: Tx, run_id: str, step_attempt_id: str) -> StepAttempt:
    row = tx.row("step_get", run_id=run_id, step_attempt_id=step_attempt_id)
    if row is None:
        raise StepAttemptNotFound(run_id, step_attempt_id)
    return step_from_row(row, CODEC)


def complete_attempt(
    tx: Tx, lease: Lease, attempt: StepAttempt, output: Json | None
) -> StepAttempt:
    row = tx.one(
        "step_complete_attempt",
        step_attempt_id=attempt.step_attempt_id,
        output=output,
        worker_id=lease.worker_id,
    )
    return ended(tx, step_from_row(row, CODEC))


def fail_attempt(tx: Tx, lease: Lease, attempt: StepAttempt, error: Failure) -> StepAttempt:
    row = tx.one(
        "step_fail_attempt",
        step_attempt_id=attempt.step_attempt_id,
        error=rules.failure_to_json(error),
        worker_id=lease.worker_id,
    )
    return ended(tx, step_from_row(row, CODEC))


def ended(tx: Tx, step: StepAttempt) -> StepAttempt:
    """Report a step attempt that `tx` closed (or recorded closed) for the worker."""
    tx.events.step_ended(step.namespace_id, step.status)
    return step
