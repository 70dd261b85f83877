"""Worker calls on the run itself: heartbeat, sleep, complete, fail, release."""

from __future__ import annotations

from storage import rules
from storage.records import (
    Run,
    RunCompleteParams,
    RunFailParams,
    RunHeartbeatParams,
    RunHeartbeatResult,
    RunReleaseParams,
    RunSleepParams,
    RunSleepResult,
    StepKind,
    StepStatus,
)
from storage.rows import NewAttempt, lease_params
from storage.sqlite.attempts import attempts_of, insert_attempt, recorded
from storage.sqlite.codec import CODEC, interval_micros, moment
from storage.sqlite.database import Tx
from storage.sqlite.endings import (
    abandon_open_steps,
    close_open_steps,
    complete,
    end_execution,
    end_with_failure,
    fenced_update,
)
from storage.sqlite.fencing import enforce, fence, fence_ending, lease_row, lease_state


def heartbeat(tx: Tx, params: RunHeartbeatParams) -> RunHeartbeatResult:
    row = lease_row(tx, params.lease)
    if rules.canceled_under(lease_state(row), params.lease.lease_id):
        return RunHeartbeatResult(lease_expires_at=None, cancel_requested=True)
    enforce(tx, params.lease, row)
    expires = tx.now + interval_micros(params.lease_duration)
    tx.one("run_heartbeat", **lease_params(params.lease, CODEC), lease_expires_at=expires)
    return RunHeartbeatResult(lease_expires_at=moment(expires), cancel_requested=False)


def run_complete(tx: Tx, params: RunCompleteParams) -> Run:
    run, repeat = fence_ending(tx, params.lease)
    if repeat:
        return rules.completed_again(run, params.output)
    return complete(tx, run, params.lease, params.output)


def run_fail(tx: Tx, params: RunFailParams) -> Run:
    run, repeat = fence_ending(tx, params.lease)
    if repeat:
        return rules.failed_again(run, params.error)
    return end_with_failure(tx, run, params.lease, params.error)


def run_release(tx: Tx, params: RunReleaseParams) -> Run:
    """Hand the run back: due at once, attempt unchanged, open attempts RELEASED."""
    run = fence(tx, params.lease)
    close_open_steps(tx, run.run_id, rules.failure_to_json(rules.released_failure(params.reason)))
    return fenced_update(tx, "run_release", run, params.lease)


def run_sleep(tx: Tx, params: RunSleepParams) -> RunSleepResult:
    """Park the run until the wake-up time, or record the sleep done if that has passed."""
    run, repeat = fence_ending(tx, params.lease)
    if repeat:
        return rules.slept_again(run, attempts_of(tx, run.run_id, params.step_id), params)
    wake = rules.wake_up_at(params.wake_up_at, params.duration, tx.now_at)
    # Only a woken sleep can be recorded here (a parked run has no lease): memoized.
    if slept := recorded(tx, run.run_id, params.step_id, StepKind.SLEEP):
        return RunSleepResult(slept, run)
    if wake <= tx.now_at:
        done = NewAttempt(params.step_id, StepKind.SLEEP, StepStatus.COMPLETED, wake_up_at=wake)
        return RunSleepResult(insert_attempt(tx, run, params.lease, done), run)
    abandon_open_steps(tx, run.run_id)
    sleeping = NewAttempt(params.step_id, StepKind.SLEEP, StepStatus.RUNNING, wake_up_at=wake)
    step = insert_attempt(tx, run, params.lease, sleeping)
    parked = end_execution(tx, run, params.lease, rules.sleep_ending(run, wake))
    return RunSleepResult(step, parked)
