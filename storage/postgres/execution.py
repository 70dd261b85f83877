"""Worker calls on the run itself: heartbeat, sleep, complete, fail, release.

Heartbeat, complete and release are single fenced statements (the hot path); sleep
and fail read the run's history or retry policy, so they run in the locked transaction.
"""

from __future__ import annotations

from datetime import datetime

from storage import rules
from storage.errors import LeaseLost
from storage.postgres.attempts import insert_attempt, recorded
from storage.postgres.database import Database, lease_params
from storage.postgres.endings import (
    ABANDONED_ERROR,
    close_open_steps,
    end_execution,
    end_with_failure,
    ended,
)
from storage.postgres.fencing import check_lease, fenced, refuse, verdict
from storage.postgres.rows import lease_state_from_row, run_from_row
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


async def heartbeat(db: Database, params: RunHeartbeatParams) -> RunHeartbeatResult:
    lease = params.lease
    values = {**lease_params(lease), "lease_duration": params.lease_duration}
    row = await db.fetch_one("run_heartbeat", values)
    if row is not None:
        return RunHeartbeatResult(row["lease_expires_at"], cancel_requested=False)
    row = await db.fetch_one("run_lease_state", values)
    state = lease_state_from_row(row)
    if state and state.status is RunStatus.CANCELED and state.lease_id == lease.lease_id:
        return RunHeartbeatResult(lease_expires_at=None, cancel_requested=True)
    # The update found no current lease, so a verdict exists (a lease never revives).
    error = verdict(lease, row) or LeaseLost(lease.run_id, RunStatus.RUNNING)
    await refuse(db, lease, row, error)


async def run_complete(db: Database, params: RunCompleteParams) -> Run:
    values = {
        **lease_params(params.lease),
        "output": params.output,
        "error": ABANDONED_ERROR,
    }
    row = await db.fetch_one("run_complete", values)
    if row is not None:
        return ended(db.events, run_from_row(row))
    await check_lease(db, params.lease)
    raise LeaseLost(params.lease.run_id, RunStatus.RUNNING)  # pragma: no cover - raced


async def run_fail(db: Database, params: RunFailParams) -> Run:
    async with fenced(db, params.lease) as (conn, run_row):
        run = await end_with_failure(conn, params.lease, run_row, params.error)
    return ended(db.events, run)


async def run_release(db: Database, params: RunReleaseParams) -> Run:
    """Hand the run back: due at once, attempt unchanged, open attempts RELEASED."""
    values = {
        **lease_params(params.lease),
        "error": rules.failure_to_json(rules.released_failure(params.reason)),
    }
    row = await db.fetch_one("run_release", values)
    if row is not None:
        return run_from_row(row)
    await check_lease(db, params.lease)
    raise LeaseLost(params.lease.run_id, RunStatus.RUNNING)  # pragma: no cover - raced


async def run_sleep(db: Database, params: RunSleepParams) -> RunSleepResult:
    """Park the run until the wake-up time, or record the sleep done if that has passed."""
    lease = params.lease
    async with fenced(db, lease) as (conn, run_row):
        now: datetime = run_row["db_now"]
        wake = _wake_up_at(params, now)
        # Only a woken sleep can be recorded here (a parked run has no lease): memoized.
        done = await recorded(conn, lease.run_id, params.step_id, StepKind.SLEEP)
        if done is not None:
            return RunSleepResult(step=done, run=run_from_row(run_row))
        if wake <= now:
            step = await insert_attempt(
                conn,
                lease,
                run_row,
                step_id=params.step_id,
                kind=StepKind.SLEEP,
                status=StepStatus.COMPLETED,
                wake_up_at=wake,
                finished_at=now,
            )
            return RunSleepResult(step=step, run=run_from_row(run_row))
        await close_open_steps(conn, lease.run_id, ABANDONED_ERROR)
        step = await insert_attempt(
            conn,
            lease,
            run_row,
            step_id=params.step_id,
            kind=StepKind.SLEEP,
            status=StepStatus.RUNNING,
            wake_up_at=wake,
        )
        run = await end_execution(
            conn, lease, run_row, RunStatus.SLEEPING, wake_up_at=wake, available_at=wake
        )
    return RunSleepResult(step=step, run=run)


def _wake_up_at(params: RunSleepParams, now: datetime) -> datetime:
    if params.wake_up_at is not None:
        return params.wake_up_at
    if params.duration is None:
        raise ValueError("run_sleep needs wake_up_at or duration")
    return now + params.duration
