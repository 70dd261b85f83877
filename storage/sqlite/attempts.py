"""Step attempt rows: one step_id's history, new attempts, and closing an open one."""

from __future__ import annotations

from dataclasses import dataclass

from storage.errors import StepAttemptNotFound
from storage.ids import uuid7
from storage.records import Json, Lease, Run, StepAttempt, StepKind, StepStatus
from storage.rules import recorded_step
from storage.sqlite.codec import step_from_row
from storage.sqlite.database import Tx


def recorded(tx: Tx, run_id: str, step_id: str, kind: StepKind) -> StepAttempt | None:
    """The step's COMPLETED attempt, else its open one (rules.recorded_step)."""
    rows = tx.rows("steps_of_step_id", run_id=run_id, step_id=step_id)
    return recorded_step(map(step_from_row, rows), step_id, kind)


@dataclass(frozen=True, slots=True)
class NewAttempt:
    step_id: str
    kind: StepKind
    status: StepStatus
    config: Json | None = None
    context: Json | None = None
    output: Json | None = None
    error: Json | None = None
    wake_up_at: int | None = None
    """Microseconds since the Unix epoch."""


def insert_attempt(tx: Tx, run: Run, lease: Lease, new: NewAttempt) -> StepAttempt:
    """Record an attempt, started now; one recorded already closed is finished now too."""
    row = tx.one(
        "step_insert",
        id=uuid7(),
        namespace_id=run.namespace_id,
        run_id=run.run_id,
        step_id=new.step_id,
        kind=new.kind.value,
        status=new.status.value,
        config=new.config,
        context=new.context,
        output=new.output,
        error=new.error,
        worker_id=lease.worker_id or run.worker_id,
        wake_up_at=new.wake_up_at,
        finished_at=None if new.status is StepStatus.RUNNING else tx.now,
    )
    return step_from_row(row)


def attempt_by_id(tx: Tx, run_id: str, step_attempt_id: str) -> StepAttempt:
    row = tx.row("step_get", run_id=run_id, step_attempt_id=step_attempt_id)
    if row is None:
        raise StepAttemptNotFound(run_id, step_attempt_id)
    return step_from_row(row)


def complete_attempt(
    tx: Tx, lease: Lease, attempt: StepAttempt, output: Json | None
) -> StepAttempt:
    row = tx.one(
        "step_complete_attempt",
        step_attempt_id=attempt.step_attempt_id,
        output=output,
        worker_id=lease.worker_id,
    )
    return ended(tx, step_from_row(row))


def fail_attempt(tx: Tx, lease: Lease, attempt: StepAttempt, error: Json) -> StepAttempt:
    row = tx.one(
        "step_fail_attempt",
        step_attempt_id=attempt.step_attempt_id,
        error=error,
        worker_id=lease.worker_id,
    )
    return ended(tx, step_from_row(row))


def ended(tx: Tx, step: StepAttempt) -> StepAttempt:
    """Report a step attempt that `tx` closed (or recorded closed) for the worker."""
    tx.events.step_ended(step.namespace_id, step.status)
    return step
