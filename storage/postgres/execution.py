"""Worker calls on the run itself: heartbeat, sleep, complete, fail, release.

Heartbeat, complete and release are single fenced statements (the hot path), and
concurrent completions are done together by one (group commit); sleep and fail read the
run's history or retry policy, so they run in the locked transaction. A completion whose
statement changed nothing, and a sleep or fail refused by the lock's check, may repeat
the call that ended the lease's execution: compared with what was recorded (rules.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from storage import rules
from storage.errors import LeaseLost
from storage.postgres.attempts import attempts_of, insert_attempt, recorded
from storage.postgres.codec import CODEC
from storage.postgres.database import Database, alone, arrays
from storage.postgres.endings import (
    close_open_steps,
    end_execution,
    end_with_failure,
    ended,
)
from storage.postgres.fencing import (
    check_lease,
    fenced_ending,
    lease_state,
    recorded_ending,
    refuse,
    verdict,
)
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
from storage.rows import NewAttempt, lease_params, lease_state_from_row, run_from_row


async def heartbeat(db: Database, params: RunHeartbeatParams) -> RunHeartbeatResult:
    lease = params.lease
    values = {**lease_params(lease, CODEC), "lease_duration": params.lease_duration}
    row = await db.fetch_one("run_heartbeat", values)
    if row is not None:
        return RunHeartbeatResult(CODEC.moment(row["lease_expires_at"]), cancel_requested=False)
    row = await lease_state(db, lease)
    state = None if row is None else lease_state_from_row(row, CODEC)
    if rules.canceled_under(state, lease.lease_id):
        return RunHeartbeatResult(lease_expires_at=None, cancel_requested=True)
    # The update found no current lease, so a verdict exists (a lease never revives).
    error = verdict(lease, row) or LeaseLost(lease.run_id, RunStatus.RUNNING)
    await refuse(db, lease, row, error)


async def run_complete(db: Database, params: RunCompleteParams) -> Run:
    values = {
        **lease_params(params.lease, CODEC),
        "output": params.output,
        "error": rules.ABANDONED_ERROR,
    }
    row = await db.fetch_one("run_complete", values)
    if row is not None:
        return ended(db.events, run_from_row(row, CODEC))
    recorded_run = run_from_row(await recorded_ending(db, params.lease), CODEC)
    return rules.completed_again(recorded_run, params.output)


async def run_complete_many(
    db: Database, params: Sequence[RunCompleteParams]
) -> list[Run | Exception]:
    """run_complete for each call, by one statement fenced call by call (group commit);
    a call it left out, or a second one for the same run, is done alone after it."""
    batch: dict[str, int] = {}
    for n, call in enumerate(params):
        batch.setdefault(str(uuid.UUID(CODEC.id_param(call.lease.run_id))), n)
    values = [
        {**lease_params(params[n].lease, CODEC), "output": params[n].output} for n in batch.values()
    ]
    columns = {**arrays(values), "error": rules.ABANDONED_ERROR}
    done: dict[int, Run | Exception] = {}
    for row in await db.fetch("runs_complete", columns):
        done[batch[row["id"]]] = ended(db.events, run_from_row(row, CODEC))
    left = [n for n in range(len(params)) if n not in done]
    done.update(await alone(params, left, lambda p: run_complete(db, p)))
    return [done[n] for n in range(len(params))]


async def run_fail(db: Database, params: RunFailParams) -> Run:
    async with fenced_ending(db, params.lease) as (conn, run_row, repeat):
        if repeat:
            return rules.failed_again(run_from_row(run_row, CODEC), params.error)
        run = await end_with_failure(conn, params.lease, run_row, params.error)
    return ended(db.events, run)


async def run_release(db: Database, params: RunReleaseParams) -> Run:
    """Hand the run back: due at once, attempt unchanged, open attempts RELEASED."""
    released = rules.failure_to_json(rules.released_failure(params.reason))
    row = await db.fetch_one(
        "run_release", {**lease_params(params.lease, CODEC), "error": released}
    )
    if row is not None:
        return run_from_row(row, CODEC)
    await check_lease(db, params.lease)
    raise LeaseLost(params.lease.run_id, RunStatus.RUNNING)  # pragma: no cover - raced


async def run_sleep(db: Database, params: RunSleepParams) -> RunSleepResult:
    """Park the run until the wake-up time, or record the sleep done if that has passed."""
    lease = params.lease
    async with fenced_ending(db, lease) as (conn, run_row, repeat):
        run = run_from_row(run_row, CODEC)
        if repeat:
            attempts = await attempts_of(conn, run.run_id, params.step_id)
            return rules.slept_again(run, attempts, params)
        now: datetime = run_row["db_now"]
        wake = rules.wake_up_at(params.wake_up_at, params.duration, now)
        # Only a woken sleep can be recorded here (a parked run has no lease): memoized.
        if slept := await recorded(conn, run.run_id, params.step_id, StepKind.SLEEP):
            return RunSleepResult(slept, run)
        if wake <= now:
            done = NewAttempt(params.step_id, StepKind.SLEEP, StepStatus.COMPLETED, wake_up_at=wake)
            return RunSleepResult(await insert_attempt(conn, lease, run_row, done), run)
        await close_open_steps(conn, run.run_id, rules.ABANDONED_ERROR)
        sleeping = NewAttempt(params.step_id, StepKind.SLEEP, StepStatus.RUNNING, wake_up_at=wake)
        step = await insert_attempt(conn, lease, run_row, sleeping)
        parked = await end_execution(conn, lease, rules.sleep_ending(run, wake))
    return RunSleepResult(step, parked)
