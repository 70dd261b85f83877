"""Worker calls on the run itself: heartbeat, sleep, complete, fail, release."""

from __future__ import annotations

from storage.records import (
    Run,
    RunCompleteParams,
    RunFailParams,
    RunHeartbeatParams,
    RunHeartbeatResult,
    RunReleaseParams,
    RunSleepParams,
    RunSleepResult,
    RunStatus,
    StepKind,
    StepStatus,
)
from storage.rules import failure_to_json, released_failure
from storage.sqlite.attempts import NewAttempt, insert_attempt, recorded
from storage.sqlite.codec import interval_micros, micros, moment
from storage.sqlite.database import Tx
from storage.sqlite.endings import (
    abandon_open_steps,
    close_open_steps,
    complete,
    end_execution,
    end_with_failure,
    fenced_update,
)
from storage.sqlite.fencing import canceled_under, enforce, fence, lease_row


def heartbeat(tx: Tx, params: RunHeartbeatParams) -> RunHeartbeatResult:
    row = lease_row(tx, params.lease)
    if canceled_under(row, params.lease):
        return RunHeartbeatResult(lease_expires_at=None, cancel_requested=True)
    run_id = enforce(tx, params.lease, row)["id"]
    expires = tx.now + interval_micros(params.lease_duration)
    tx.one(
        "run_heartbeat",
        run_id=run_id,
        namespace_id=params.lease.namespace_id,
        lease_id=params.lease.lease_id,
        worker_id=params.lease.worker_id,
        lease_expires_at=expires,
    )
    return RunHeartbeatResult(lease_expires_at=moment(expires), cancel_requested=False)


def run_complete(tx: Tx, params: RunCompleteParams) -> Run:
    run = fence(tx, params.lease)
    return complete(tx, run, params.lease, params.output)


def run_fail(tx: Tx, params: RunFailParams) -> Run:
    run = fence(tx, params.lease)
    return end_with_failure(tx, run, params.lease, params.error)


def run_release(tx: Tx, params: RunReleaseParams) -> Run:
    """Hand the run back: due at once, attempt unchanged, open attempts RELEASED."""
    run = fence(tx, params.lease)
    close_open_steps(tx, run.run_id, failure_to_json(released_failure(params.reason)))
    return fenced_update(tx, "run_release", run, params.lease)


def run_sleep(tx: Tx, params: RunSleepParams) -> RunSleepResult:
    """Park the run until the wake-up time, or record the sleep done if that has passed."""
    run = fence(tx, params.lease)
    wake_up_at = _wake_up_at(tx, params)
    # Only a woken sleep can be recorded here (a parked run has no lease): memoized.
    if slept := recorded(tx, run.run_id, params.step_id, StepKind.SLEEP):
        return RunSleepResult(slept, run)
    if wake_up_at <= tx.now:
        done = NewAttempt(
            params.step_id, StepKind.SLEEP, StepStatus.COMPLETED, wake_up_at=wake_up_at
        )
        return RunSleepResult(insert_attempt(tx, run, params.lease, done), run)
    abandon_open_steps(tx, run.run_id)
    sleeping = NewAttempt(params.step_id, StepKind.SLEEP, StepStatus.RUNNING, wake_up_at=wake_up_at)
    step = insert_attempt(tx, run, params.lease, sleeping)
    parked = end_execution(
        tx, run, params.lease, RunStatus.SLEEPING, wake_up_at=wake_up_at, available_at=wake_up_at
    )
    return RunSleepResult(step, parked)


def _wake_up_at(tx: Tx, params: RunSleepParams) -> int:
    if params.wake_up_at is not None:
        return micros(params.wake_up_at)
    if params.duration is not None:
        return tx.now + interval_micros(params.duration)
    raise ValueError("run_sleep needs wake_up_at or duration")
