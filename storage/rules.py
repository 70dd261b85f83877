"""Run rules shared by every backend: fencing verdicts, retry backoff, deadline
failures, and the JSON form of a Failure. Pure functions; backends call them inside
their transactions with the database clock's `now`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.errors import (
    LeaseLost,
    RunDeadlineExceeded,
    RunNotFound,
    StepKindMismatch,
    StoreError,
)
from storage.records import Failure, RetryPolicy, RunStatus, StepAttempt, StepKind, StepStatus

DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"

DEADLINE_FAILURE = Failure(
    type=DEADLINE_EXCEEDED,
    message="workflow run passed its deadline",
    non_retryable=True,
)
"""The error of a run failed by its deadline, and of its open step attempts."""

LEASE_EXPIRED_FAILURE = Failure(
    type="LEASE_EXPIRED",
    message="the worker's lease expired before the step finished",
)
"""The error of a step attempt left open by a worker whose lease expired."""

ABANDONED_FAILURE = Failure(
    type="ABANDONED",
    message="the run's execution ended while the step was still open",
)
"""The error of a step attempt still open when its worker completed, failed or parked the run."""

RELEASED_FAILURE = Failure(
    type="RELEASED",
    message="the worker released the run before the step finished",
)
"""The error of a step attempt still open when its worker released the run (ReleaseRun).
Retryable: the run is claimed again and the step runs anew."""


def released_failure(reason: str) -> Failure:
    """RELEASED_FAILURE, carrying the worker's reason as its message when it gave one."""
    if not reason:
        return RELEASED_FAILURE
    return Failure(type=RELEASED_FAILURE.type, message=reason)


def cancel_failure(reason: str) -> Failure:
    """The error of a canceled run, and of its open step attempts."""
    return Failure(type="CANCELED", message=reason or "workflow run canceled", non_retryable=True)


@dataclass(frozen=True, slots=True)
class LeaseState:
    """What fencing needs to know of a run, read in the caller's transaction."""

    status: RunStatus
    lease_id: str | None
    lease_expires_at: datetime | None
    deadline_at: datetime | None
    error_type: str | None


def is_overdue(deadline_at: datetime | None, now: datetime) -> bool:
    return deadline_at is not None and deadline_at <= now


def lease_error(
    namespace_id: str, run_id: str, lease_id: str, state: LeaseState | None, now: datetime
) -> StoreError | None:
    """Why a worker call under `lease_id` may not write, or None when it may.

    An active run past its deadline yields RunDeadlineExceeded: the caller fails the
    run (its own transaction) before raising. The worker whose lease a deadline ended
    learns that, rather than a bare LeaseLost.
    """
    if state is None:
        return RunNotFound(namespace_id, run_id)
    if not state.status.is_terminal and is_overdue(state.deadline_at, now):
        return RunDeadlineExceeded(run_id)
    if (
        state.status is RunStatus.FAILED
        and state.error_type == DEADLINE_EXCEEDED
        and state.lease_id == lease_id
    ):
        return RunDeadlineExceeded(run_id)
    if (
        state.status is RunStatus.RUNNING
        and state.lease_id == lease_id
        and state.lease_expires_at is not None
        and state.lease_expires_at > now
    ):
        return None
    return LeaseLost(run_id, state.status)


def backoff(policy: RetryPolicy, failed_attempt: int) -> timedelta:
    """The delay after attempt `failed_attempt` (1-based) failed:
    initial * coefficient^(failed_attempt - 1), capped at maximum_interval."""
    initial = policy.initial_interval.total_seconds()
    cap = policy.maximum_interval.total_seconds()
    try:
        seconds = initial * policy.backoff_coefficient ** (failed_attempt - 1)
    except OverflowError:
        seconds = cap
    return timedelta(seconds=min(seconds, cap))


def retry_at(
    policy: RetryPolicy,
    attempt: int,
    deadline_at: datetime | None,
    error: Failure,
    now: datetime,
) -> datetime | None:
    """When the failed `attempt` is tried again, or None when the run fails for good."""
    if error.non_retryable:
        return None
    if policy.maximum_attempts and attempt >= policy.maximum_attempts:
        return None
    try:
        at = now + backoff(policy, attempt)
    except OverflowError:  # past year 9999: a policy stored before intervals were capped
        return None
    if deadline_at is not None and at >= deadline_at:
        return None
    return at


def recorded_step(
    attempts: Iterable[StepAttempt], step_id: str, kind: StepKind
) -> StepAttempt | None:
    """The step's COMPLETED attempt, else its open one, else None. A step_id keeps the
    kind it was first recorded with: any attempt of another kind is StepKindMismatch."""
    completed = running = None
    for attempt in attempts:
        if attempt.kind is not kind:
            raise StepKindMismatch(step_id, attempt.kind, kind)
        if attempt.status is StepStatus.COMPLETED:
            completed = attempt
        elif attempt.status is StepStatus.RUNNING:
            running = attempt
    return completed or running


def failure_to_json(failure: Failure) -> str:
    doc: dict[str, Any] = {
        "type": failure.type,
        "message": failure.message,
        "stack_trace": failure.stack_trace,
        "non_retryable": failure.non_retryable,
    }
    if failure.details is not None:
        doc["details"] = json.loads(failure.details)
    return json.dumps(doc, separators=(",", ":"))


def failure_from_json(text: str | None) -> Failure | None:
    if text is None:
        return None
    doc = json.loads(text)
    details = doc.get("details")
    return Failure(
        type=doc.get("type", ""),
        message=doc.get("message", ""),
        stack_trace=doc.get("stack_trace", ""),
        details=None if "details" not in doc else json.dumps(details, separators=(",", ":")),
        non_retryable=bool(doc.get("non_retryable", False)),
    )
