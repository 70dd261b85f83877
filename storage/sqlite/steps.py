"""Worker calls on step attempts: begin, complete, fail. Each runs in one write."""

from __future__ import annotations

from storage.errors import StepAlreadyCompleted, StepNotRunning
from storage.records import (
    Json,
    Lease,
    Run,
    StepAttempt,
    StepBeginParams,
    StepCompleteParams,
    StepFailParams,
    StepFailResult,
    StepStatus,
)
from storage.rules import failure_to_json
from storage.sqlite.attempts import (
    NewAttempt,
    attempt_by_id,
    complete_attempt,
    ended,
    fail_attempt,
    insert_attempt,
    recorded,
)
from storage.sqlite.database import Tx
from storage.sqlite.endings import end_with_failure
from storage.sqlite.fencing import fence


def begin(tx: Tx, params: StepBeginParams) -> StepAttempt:
    run = fence(tx, params.lease)
    # A completed step is memoized; an open attempt means the RPC was retried.
    existing = recorded(tx, run.run_id, params.step_id, params.kind)
    if existing is not None:
        return existing
    new = NewAttempt(
        params.step_id,
        params.kind,
        StepStatus.RUNNING,
        config=params.config,
        context=params.context,
    )
    return insert_attempt(tx, run, params.lease, new)


def complete(tx: Tx, params: StepCompleteParams) -> StepAttempt:
    run = fence(tx, params.lease)
    if params.step_attempt_id is not None:
        attempt = attempt_by_id(tx, run.run_id, params.step_attempt_id)
        if attempt.status is StepStatus.FAILED:
            raise StepNotRunning(attempt.step_attempt_id, attempt.status)
        if attempt.status is StepStatus.COMPLETED:
            return attempt
        return complete_attempt(tx, params.lease, attempt, params.output)
    step_id = _step_id(params.step_id)
    existing = recorded(tx, run.run_id, step_id, params.kind)
    if existing is not None and existing.status is StepStatus.COMPLETED:
        return existing
    if existing is not None:
        return complete_attempt(tx, params.lease, existing, params.output)
    new = NewAttempt(
        step_id,
        params.kind,
        StepStatus.COMPLETED,
        config=params.config,
        context=params.context,
        output=params.output,
    )
    return ended(tx, insert_attempt(tx, run, params.lease, new))


def fail(tx: Tx, params: StepFailParams) -> StepFailResult:
    """Close (or record) the attempt FAILED, then end the execution like run_fail."""
    run = fence(tx, params.lease)
    error = failure_to_json(params.error)
    if params.step_attempt_id is not None:
        step = _fail_by_id(tx, run, params.lease, params.step_attempt_id, error)
    else:
        step = _fail_by_step_id(tx, run, params, error)
    return StepFailResult(step, end_with_failure(tx, run, params.lease, params.error))


def _fail_by_id(tx: Tx, run: Run, lease: Lease, step_attempt_id: str, error: Json) -> StepAttempt:
    attempt = attempt_by_id(tx, run.run_id, step_attempt_id)
    if attempt.status is StepStatus.COMPLETED:
        raise StepAlreadyCompleted(attempt.step_id, attempt.step_attempt_id)
    if attempt.status is StepStatus.FAILED:
        raise StepNotRunning(attempt.step_attempt_id, attempt.status)
    return fail_attempt(tx, lease, attempt, error)


def _fail_by_step_id(tx: Tx, run: Run, params: StepFailParams, error: Json) -> StepAttempt:
    step_id = _step_id(params.step_id)
    existing = recorded(tx, run.run_id, step_id, params.kind)
    if existing is not None and existing.status is StepStatus.COMPLETED:
        raise StepAlreadyCompleted(existing.step_id, existing.step_attempt_id)
    if existing is not None:
        return fail_attempt(tx, params.lease, existing, error)
    new = NewAttempt(
        step_id,
        params.kind,
        StepStatus.FAILED,
        config=params.config,
        context=params.context,
        error=error,
    )
    return ended(tx, insert_attempt(tx, run, params.lease, new))


def _step_id(step_id: str | None) -> str:
    if step_id is None:
        raise ValueError("a step call names a step_attempt_id or a step_id")
    return step_id
