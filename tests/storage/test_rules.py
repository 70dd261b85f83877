"""storage.rules: the rules both backends apply, tested alone (the conformance suite
tests them through each backend)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from storage.errors import (
    ExecutionAlreadyEnded,
    LeaseLost,
    RunDeadlineExceeded,
    StepAlreadyCompleted,
    StepNotRunning,
)
from storage.records import (
    Failure,
    Lease,
    RetryPolicy,
    Run,
    RunSleepParams,
    RunStatus,
    StepAttempt,
    StepKind,
    StepStatus,
)
from storage.rules import (
    LeaseState,
    already_completed,
    canceled_under,
    completed_again,
    ensure_failable,
    failed_ending,
    fails_run_first,
    repeats_ending,
    required_step_id,
    same_failure,
    same_json,
    sleep_ending,
    slept_again,
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


def _state(status: RunStatus, lease_id: str | None = "lease") -> LeaseState:
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


def test_repeats_ending__a_lease_lost_on_a_run_its_own_ending_left() -> None:
    lost = LeaseLost("run", RunStatus.COMPLETED)
    for status in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.PENDING, RunStatus.SLEEPING):
        assert repeats_ending(lost, _state(status), "lease")
        assert not repeats_ending(lost, _state(status), "another")  # claimed since
    # An expired lease (still RUNNING) and a cancel keep their LeaseLost.
    assert not repeats_ending(lost, _state(RunStatus.RUNNING), "lease")
    assert not repeats_ending(lost, _state(RunStatus.CANCELED), "lease")
    # A released run has no lease_id left; other errors are not lease losses.
    assert not repeats_ending(lost, _state(RunStatus.PENDING, lease_id=None), "lease")
    assert not repeats_ending(RunDeadlineExceeded("run"), _state(RunStatus.FAILED), "lease")
    assert not repeats_ending(None, _state(RunStatus.RUNNING), "lease")
    assert not repeats_ending(lost, None, "lease")


@pytest.mark.parametrize(
    ("recorded", "asked"),
    [
        ('{"a": 1, "b": [1, 2]}', '{"b":[1.0,2],"a":1.0}'),
        ("1e2", "100"),
        ('"x"', ' "x" '),
        (None, None),
    ],
)
def test_same_json__the_same_value_whatever_its_spelling(
    recorded: str | None, asked: str | None
) -> None:
    assert same_json(recorded, asked)


@pytest.mark.parametrize(
    ("recorded", "asked"),
    [
        ("true", "1"),
        ("false", "0"),
        ("null", None),
        ('"1"', "1"),
        ('{"a": 1}', '{"a": 1, "b": null}'),
        ("[1, 2]", "[2, 1]"),
    ],
)
def test_same_json__another_value(recorded: str | None, asked: str | None) -> None:
    assert not same_json(recorded, asked)


def test_same_failure__every_field_details_as_json() -> None:
    error = Failure("Boom", "it broke", "trace", '{"code": 1}', non_retryable=True)
    assert same_failure(error, replace(error, details='{ "code": 1.0 }'))
    for other in (
        replace(error, type="Other"),
        replace(error, message="other"),
        replace(error, stack_trace=""),
        replace(error, details=None),
        replace(error, non_retryable=False),
    ):
        assert not same_failure(error, other)
    assert not same_failure(None, error)


def test_completed_again__the_same_output_or_execution_already_ended() -> None:
    done = replace(RUN, status=RunStatus.COMPLETED, output='{"n": 1}')
    assert completed_again(done, '{"n": 1.0}') is done
    with pytest.raises(ExecutionAlreadyEnded):
        completed_again(done, '{"n": 2}')
    with pytest.raises(ExecutionAlreadyEnded):
        completed_again(replace(RUN, status=RunStatus.PENDING), '{"n": 1}')


def test_slept_again__the_same_step_and_wake_up() -> None:
    wake = NOW + timedelta(hours=1)
    run = replace(RUN, status=RunStatus.SLEEPING, wake_up_at=wake)
    nap = replace(ATTEMPT, step_id="nap", kind=StepKind.SLEEP, wake_up_at=wake)
    asked = RunSleepParams(Lease("default", "run", "lease"), "nap", duration=timedelta(hours=1))
    assert slept_again(run, [nap], asked).step is nap
    assert slept_again(run, [nap], replace(asked, duration=None, wake_up_at=wake)).run is run
    for other in (replace(asked, duration=timedelta(minutes=59)), replace(asked, step_id="x")):
        attempts = [nap] if other.step_id == "nap" else []
        with pytest.raises(ExecutionAlreadyEnded):
            slept_again(run, attempts, other)
