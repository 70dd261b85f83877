"""Worker calls on step attempts: begin, complete, fail. Each runs in one write."""

from __future__ import annotations

from storage import rules
from storage.records import (
    Run,
    StepAttempt,
    StepBeginParams,
    StepCompleteParams,
    StepFailParams,
    StepFailResult,
    StepStatus,
)
from storage.rows import NewAttempt
from storage.sqlite.attempts import (
    attempt_by_id,
    called_attempts,
    complete_attempt,
    ended,
    fail_attempt,
    insert_attempt,
    recorded,
)
from storage.sqlite.database import Tx
from storage.sqlite.endings import end_with_failure
from storage.sqlite.fencing import fence, fence_ending


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
        if rules.already_completed(attempt):
            return attempt
        return complete_attempt(tx, params.lease, attempt, params.output)
    step_id = rules.required_step_id(params.step_id)
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
    run, repeat = fence_ending(tx, params.lease)
    if repeat:
        return rules.step_failed_again(run, called_attempts(tx, run.run_id, params), params)
    if params.step_attempt_id is not None:
        step = _fail_by_id(tx, run, params, params.step_attempt_id)
    else:
        step = _fail_by_step_id(tx, run, params)
    return StepFailResult(step, end_with_failure(tx, run, params.lease, params.error))


def _fail_by_id(tx: Tx, run: Run, params: StepFailParams, step_attempt_id: str) -> StepAttempt:
    attempt = attempt_by_id(tx, run.run_id, step_attempt_id)
    rules.ensure_failable(attempt)
    return fail_attempt(tx, params.lease, attempt, params.error)


def _fail_by_step_id(tx: Tx, run: Run, params: StepFailParams) -> StepAttempt:
    step_id = rules.required_step_id(params.step_id)
    existing = recorded(tx, run.run_id, step_id, params.kind)
    if existing is not None:
        rules.ensure_failable(existing)
        return fail_attempt(tx, params.lease, existing, params.error)
    new = NewAttempt.failed(params, step_id)
    return ended(tx, insert_attempt(tx, run, params.lease, new))
