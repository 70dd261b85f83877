"""storage.rules: the rules both backends apply, tested alone (the conformance suite
tests them through each backend)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from storage.errors import LeaseLost, RunDeadlineExceeded, StepAlreadyCompleted, StepNotRunning
from storage.records import (
    Failure,
    RetryPolicy,
    Run,
    RunStatus,
    StepAttempt,
    StepKind,
    StepStatus,
)
from storage.rules import (
    LeaseState,
    already_completed,
    canceled_under,
    ensure_failable,
    failed_ending,
    fails_run_first,
    required_step_id,
    sleep_ending,
    wake_up_at,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = RetryPolicy(timedelta(seconds=1), 2.0, timedelta(minutes=1), maximum_attempts=3)
ERROR = Failure(type="Boom", message="it broke")

RUN = Run(
    run_id="run",
    namespace_id="default",
    workflow_name="wf",
    version="",
    status=RunStatus.RUNNING,
    task_queue="q",
    input=None,
    output=None,
    error=None,
    context=None,
    idempotency_key=None,
    deadline_at=None,
    worker_id=None,
    attempt=2,
    retry_policy=POLICY,
    parent_run_id=None,
    parent_step_attempt_id=None,
    created_at=NOW,
    updated_at=NOW,
    started_at=NOW,
    finished_at=None,
    wake_up_at=None,
    available_at=NOW,
    replay_of_run_id=None,
)

ATTEMPT = StepAttempt(
    step_attempt_id="attempt",
    namespace_id="default",
    workflow_run_id="run",
    step_id="s",
    kind=StepKind.FUNCTION,
    status=StepStatus.RUNNING,
    attempt=1,
    config=None,
    context=None,
    output=None,
    error=None,
    child_workflow_run_id=None,
    worker_id=None,
    wake_up_at=None,
    started_at=NOW,
    finished_at=None,
    created_at=NOW,
    updated_at=NOW,
    copied_from_step_attempt_id=None,
)


def test_failed_ending__a_retry_is_pending_at_the_backoff_with_the_next_attempt() -> None:
    ending = failed_ending(RUN, ERROR, NOW)
    assert (ending.status, ending.attempt, ending.error) == (RunStatus.PENDING, 3, ERROR)
    assert ending.available_at == NOW + timedelta(seconds=2)
    assert ending.finished_at is None


@pytest.mark.parametrize(
    ("run", "error"),
    [
        (RUN, replace(ERROR, non_retryable=True)),
        (replace(RUN, attempt=3), ERROR),
        (replace(RUN, deadline_at=NOW + timedelta(seconds=2)), ERROR),
    ],
    ids=["non_retryable", "attempts_used_up", "retry_at_the_deadline"],
)
def test_failed_ending__fails_for_good(run: Run, error: Failure) -> None:
    ending = failed_ending(run, error, NOW)
    assert (ending.status, ending.attempt, ending.error) == (RunStatus.FAILED, run.attempt, error)
    assert (ending.finished_at, ending.available_at) == (NOW, None)


def test_sleep_ending__parks_the_run_until_it_wakes() -> None:
    wake = NOW + timedelta(hours=1)
    ending = sleep_ending(RUN, wake)
    assert (ending.status, ending.attempt, ending.wake_up_at, ending.available_at) == (
        RunStatus.SLEEPING,
        RUN.attempt,
        wake,
        wake,
    )


def test_wake_up_at__a_time_or_a_duration_from_now() -> None:
    assert wake_up_at(NOW, None, NOW - timedelta(days=1)) == NOW
    assert wake_up_at(None, timedelta(seconds=5), NOW) == NOW + timedelta(seconds=5)
    with pytest.raises(ValueError, match="wake_up_at or duration"):
        wake_up_at(None, None, NOW)


@pytest.mark.parametrize("step_id", [None, ""])
def test_required_step_id__a_step_call_names_its_step(step_id: str | None) -> None:
    with pytest.raises(ValueError, match="step_id is required"):
        required_step_id(step_id)
    assert required_step_id("s") == "s"


def test_already_completed__by_status() -> None:
    assert already_completed(replace(ATTEMPT, status=StepStatus.COMPLETED))
    assert not already_completed(ATTEMPT)
    with pytest.raises(StepNotRunning):
        already_completed(replace(ATTEMPT, status=StepStatus.FAILED))


def test_ensure_failable__only_a_running_attempt_fails() -> None:
    ensure_failable(ATTEMPT)
    with pytest.raises(StepAlreadyCompleted):
        ensure_failable(replace(ATTEMPT, status=StepStatus.COMPLETED))
    with pytest.raises(StepNotRunning):
        ensure_failable(replace(ATTEMPT, status=StepStatus.FAILED))


def _state(status: RunStatus, lease_id: str = "lease") -> LeaseState:
    return LeaseState(status, lease_id, NOW, NOW, None)


def test_canceled_under__the_cancel_came_while_this_lease_held_the_run() -> None:
    assert canceled_under(_state(RunStatus.CANCELED), "lease")
    assert not canceled_under(_state(RunStatus.CANCELED), "another")
    assert not canceled_under(_state(RunStatus.FAILED), "lease")
    assert not canceled_under(None, "lease")


def test_fails_run_first__only_an_active_run_past_its_deadline() -> None:
    overdue = RunDeadlineExceeded("run")
    assert fails_run_first(overdue, _state(RunStatus.SLEEPING))
    assert not fails_run_first(overdue, _state(RunStatus.FAILED))
    assert not fails_run_first(overdue, None)
    assert not fails_run_first(LeaseLost("run", RunStatus.PENDING), _state(RunStatus.PENDING))
