"""Run rules shared by every backend: fencing verdicts, retry backoff, how an execution
ends, deadline failures, sleeps, what a step call may do to an attempt, and the JSON
form of a Failure. Pure functions; backends call them inside their transactions with
the database clock's `now`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.errors import (
    ExecutionAlreadyEnded,
    LeaseLost,
    RunDeadlineExceeded,
    RunNotFound,
    StepAlreadyCompleted,
    StepKindMismatch,
    StepNotRunning,
    StoreError,
)
from storage.records import (
    Failure,
    Json,
    RetryPolicy,
    Run,
    RunSleepParams,
    RunSleepResult,
    RunStatus,
    StepAttempt,
    StepFailParams,
    StepFailResult,
    StepKind,
    StepStatus,
)

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


def fails_run_first(error: StoreError, state: LeaseState | None) -> bool:
    """Whether a refused call fails the run (in its own transaction) before raising
    `error`: an active run past its deadline, so that the worker learns it failed."""
    return (
        isinstance(error, RunDeadlineExceeded)
        and state is not None
        and not state.status.is_terminal
    )


def canceled_under(state: LeaseState | None, lease_id: str) -> bool:
    """The run was canceled while `lease_id` held it: a heartbeat says so (cancel_requested)
    rather than LeaseLost."""
    return state is not None and state.status is RunStatus.CANCELED and state.lease_id == lease_id


# --- repeated endings ---------------------------------------------------------------------
#
# A call that ends an execution (CompleteWorkflow, FailWorkflow, ScheduleSleep, FailStep)
# is sent again when its answer was lost: a server that committed and died before it
# replied, a worker stream that broke (the SDK sends unanswered calls again). Its fenced
# write then finds no live lease. It is a repeat when the lease's own execution was the
# run's last one and ended it, and what was recorded is what the call asks for: the repeat
# answers the run as recorded and changes nothing. Every ending but a release keeps the
# run's lease_id until the next claim replaces it, so "no claim since" is "the run's
# lease_id is still the call's". ReleaseRun clears the lease_id (a worker that let a run
# go is not told of its later life), so its repeat is LeaseLost, as any late call.

ENDED_BY_ITS_LEASE = frozenset(
    {
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.PENDING,
        RunStatus.SLEEPING,
        RunStatus.WAITING,
    }
)
"""What a worker's ending leaves a run in: completed, failed for good, retried, parked
(a waiting run woken by its last wait is PENDING)."""


def repeats_ending(error: StoreError | None, state: LeaseState | None, lease_id: str) -> bool:
    """Whether a call that ends an execution, refused with `error` (lease_error), is
    compared with what its lease recorded (the *_again rules) instead of refused: the run
    left RUNNING by an ending of this very lease and no claim came since. A cancel
    (CANCELED), an expired lease (still RUNNING) and a deadline keep their error."""
    return (
        isinstance(error, LeaseLost)
        and state is not None
        and state.lease_id == lease_id
        and state.status in ENDED_BY_ITS_LEASE
    )


def completed_again(run: Run, output: Json | None) -> Run:
    """A repeated CompleteWorkflow: the run, when its lease completed it with an equal
    output. Otherwise ExecutionAlreadyEnded: the first ending stands."""
    if run.status is RunStatus.COMPLETED and same_json(run.output, output):
        return run
    raise ExecutionAlreadyEnded(run.run_id, run.status)


def failed_again(run: Run, error: Failure) -> Run:
    """A repeated FailWorkflow: the run, when its lease's failure was recorded with an
    equal error, retried (PENDING) or for good (FAILED). Otherwise ExecutionAlreadyEnded."""
    if run.status in (RunStatus.PENDING, RunStatus.FAILED) and same_failure(run.error, error):
        return run
    raise ExecutionAlreadyEnded(run.run_id, run.status)


def step_failed_again(
    run: Run, attempts: Iterable[StepAttempt], params: StepFailParams
) -> StepFailResult:
    """A repeated FailStep: the call's attempt and the run, when that attempt FAILED with
    an equal error and the run was retried or failed with it (failed_again). `attempts`:
    the attempt of `step_attempt_id` (none when unknown), else every attempt of
    `step_id`, of which the call's is the latest. Otherwise ExecutionAlreadyEnded."""
    attempt = _called_attempt(attempts, params)
    if (
        attempt is not None
        and attempt.status is StepStatus.FAILED
        and same_failure(attempt.error, params.error)
    ):
        return StepFailResult(attempt, failed_again(run, params.error))
    raise ExecutionAlreadyEnded(run.run_id, run.status)


def _called_attempt(attempts: Iterable[StepAttempt], params: StepFailParams) -> StepAttempt | None:
    if params.step_attempt_id is not None:
        return next((a for a in attempts if a.step_attempt_id == params.step_attempt_id), None)
    latest = max(attempts, key=lambda a: a.attempt, default=None)
    return latest if latest is not None and latest.kind is params.kind else None


def slept_again(run: Run, attempts: Iterable[StepAttempt], sleep: RunSleepParams) -> RunSleepResult:
    """A repeated ScheduleSleep: the sleep and the run, when the run is SLEEPING on the
    step's open SLEEP attempt with the same wake-up: `wake_up_at` as asked, or `duration`
    after the attempt started (the recording call's clock). `attempts`: every attempt of
    the step_id. Otherwise ExecutionAlreadyEnded."""
    if run.status is RunStatus.SLEEPING:
        for attempt in attempts:
            if (
                attempt.kind is StepKind.SLEEP
                and attempt.status is StepStatus.RUNNING
                and attempt.wake_up_at == run.wake_up_at
                and _same_wake_up(attempt, sleep)
            ):
                return RunSleepResult(attempt, run)
    raise ExecutionAlreadyEnded(run.run_id, run.status)


def _same_wake_up(attempt: StepAttempt, sleep: RunSleepParams) -> bool:
    if sleep.wake_up_at is not None:
        return attempt.wake_up_at == sleep.wake_up_at
    if sleep.duration is None or attempt.started_at is None:
        return False
    return attempt.started_at + sleep.duration == attempt.wake_up_at


def same_json(recorded: Json | None, asked: Json | None) -> bool:
    """Whether two payloads hold the same JSON value, key order and spacing aside.
    Numbers compare as the doubles a protobuf Value holds (1 equals 1.0; true is not 1).
    No payload (None) equals only no payload."""
    if recorded is None or asked is None:
        return recorded is None and asked is None
    return _canonical_json(recorded) == _canonical_json(asked)


def _canonical_json(text: Json) -> str:
    return json.dumps(json.loads(text, parse_int=float), sort_keys=True, separators=(",", ":"))


def same_failure(recorded: Failure | None, asked: Failure) -> bool:
    """Whether a recorded error is the one asked: every field equal, details as JSON."""
    return (
        recorded is not None
        and (recorded.type, recorded.message, recorded.stack_trace, recorded.non_retryable)
        == (asked.type, asked.message, asked.stack_trace, asked.non_retryable)
        and same_json(recorded.details, asked.details)
    )


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


@dataclass(frozen=True, slots=True)
class Ending:
    """How an execution ends: the status the run leaves RUNNING for, and what changes with
    it (the lease is released in any case)."""

    status: RunStatus
    attempt: int
    error: Failure | None = None
    finished_at: datetime | None = None
    wake_up_at: datetime | None = None
    available_at: datetime | None = None


def failed_ending(run: Run, error: Failure, now: datetime) -> Ending:
    """After a failed attempt: PENDING at the retry time with attempt + 1 (`error` kept for
    the next attempt to see), or FAILED for good."""
    at = retry_at(run.retry_policy, run.attempt, run.deadline_at, error, now)
    if at is None:
        return Ending(RunStatus.FAILED, run.attempt, error=error, finished_at=now)
    return Ending(RunStatus.PENDING, run.attempt + 1, error=error, available_at=at)


def sleep_ending(run: Run, wake_up_at: datetime) -> Ending:
    """Parked: SLEEPING, claimable again at `wake_up_at`."""
    return Ending(RunStatus.SLEEPING, run.attempt, wake_up_at=wake_up_at, available_at=wake_up_at)


def wake_up_at(wake_at: datetime | None, duration: timedelta | None, now: datetime) -> datetime:
    """When a sleep recorded `now` ends: at `wake_at`, or `duration` from now."""
    if wake_at is not None:
        return wake_at
    if duration is None:
        raise ValueError("run_sleep needs wake_up_at or duration")
    return now + duration


def required_step_id(step_id: str | None) -> str:
    """A step call names its attempt (step_attempt_id) or its step (step_id)."""
    if not step_id:
        raise ValueError("step_id is required without step_attempt_id")
    return step_id


def already_completed(attempt: StepAttempt) -> bool:
    """Whether a call completing `attempt` returns it as is (a retried call: the first
    completion stands). A FAILED attempt cannot complete: StepNotRunning."""
    if attempt.status is StepStatus.FAILED:
        raise StepNotRunning(attempt.step_attempt_id, attempt.status)
    return attempt.status is StepStatus.COMPLETED


def ensure_failable(attempt: StepAttempt) -> None:
    """Only a RUNNING attempt fails: a COMPLETED one is StepAlreadyCompleted, a FAILED
    one StepNotRunning."""
    if attempt.status is StepStatus.COMPLETED:
        raise StepAlreadyCompleted(attempt.step_id, attempt.step_attempt_id)
    if attempt.status is not StepStatus.RUNNING:
        raise StepNotRunning(attempt.step_attempt_id, attempt.status)


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


DEADLINE_ERROR = failure_to_json(DEADLINE_FAILURE)
LEASE_EXPIRED_ERROR = failure_to_json(LEASE_EXPIRED_FAILURE)
ABANDONED_ERROR = failure_to_json(ABANDONED_FAILURE)
"""The fixed failures in the JSON form statements take."""
