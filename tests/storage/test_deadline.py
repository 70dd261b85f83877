"""Deadlines: past deadline_at a run is FAILED with DEADLINE_EXCEEDED — at claim, at any
worker call, and by the sweep — and no retry is scheduled at or past it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import RunDeadlineExceeded, Store
from storage.records import (
    RetryPolicy,
    Run,
    RunHeartbeatParams,
    RunSleepParams,
    RunStatus,
    StepKind,
    StepStatus,
)
from storage.rules import DEADLINE_EXCEEDED, DEADLINE_FAILURE
from tests.storage.failing import FAILERS
from tests.storage.fencing import OPS, begin_open_step
from tests.storage.helpers import (
    HOUR,
    LEASE,
    claim,
    create_run,
    expire_lease,
    failure,
    get_run,
    lease_of,
    snapshot,
    start_run,
    utcnow,
    wait_until,
)
from tests.storage.rawsql import Backend, set_deadline

PAST = timedelta(seconds=1)


def assert_failed_by_deadline(run: Run) -> None:
    assert run.status is RunStatus.FAILED
    assert run.error == DEADLINE_FAILURE
    assert run.error is not None and run.error.type == DEADLINE_EXCEEDED
    assert run.finished_at is not None


async def test_deadline__overdue_run_is_failed_at_claim_instead_of_claimed(
    store: Store, ns: str, queue: str
) -> None:
    run = await create_run(store, ns, queue, deadline_at=utcnow() - PAST)
    result = await claim(store, ns, queue)
    assert result.claimed == []
    assert_failed_by_deadline(await get_run(store, ns, run.run_id))


async def test_deadline__claim_still_returns_the_runs_on_time(
    store: Store, ns: str, queue: str
) -> None:
    late = await create_run(store, ns, queue, deadline_at=utcnow() - PAST)
    on_time = await create_run(store, ns, queue, deadline_at=utcnow() + HOUR)
    result = await claim(store, ns, queue)
    assert [c.run.run_id for c in result.claimed] == [on_time.run_id]
    assert_failed_by_deadline(await get_run(store, ns, late.run_id))


async def test_deadline__overdue_woken_sleeper_is_failed_at_claim(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    parked = await store.run_sleep(RunSleepParams(lease, "nap", duration=timedelta(milliseconds=1)))
    await set_deadline(backend, lease.run_id, utcnow() - PAST)
    assert parked.run.wake_up_at is not None
    await wait_until(parked.run.wake_up_at)
    assert (await claim(store, ns, queue)).claimed == []
    run, steps = await snapshot(store, ns, lease.run_id)
    assert_failed_by_deadline(run)
    assert [(s.kind, s.status, s.error) for s in steps] == [
        (StepKind.SLEEP, StepStatus.FAILED, DEADLINE_FAILURE)
    ]


async def test_deadline__overdue_run_with_an_expired_lease_is_failed_at_claim(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    lease, _ = await begin_open_step(store, ns, queue)
    await expire_lease(store, lease)
    await set_deadline(backend, lease.run_id, utcnow() - PAST)
    assert (await claim(store, ns, queue)).claimed == []
    run, steps = await snapshot(store, ns, lease.run_id)
    assert_failed_by_deadline(run)
    assert [(s.status, s.error) for s in steps] == [(StepStatus.FAILED, DEADLINE_FAILURE)]


async def test_deadline__run_before_its_deadline_is_claimed(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue, deadline_at=utcnow() + HOUR)
    assert claimed.run.status is RunStatus.RUNNING


@pytest.mark.parametrize("op", OPS)
async def test_deadline__worker_call_past_the_deadline_fails_the_run(
    backend: Backend, store: Store, ns: str, queue: str, op: str
) -> None:
    lease, step = await begin_open_step(store, ns, queue)
    await set_deadline(backend, lease.run_id, utcnow() - PAST)
    with pytest.raises(RunDeadlineExceeded) as caught:
        await OPS[op](store, lease, step.step_attempt_id)
    assert caught.value.run_id == lease.run_id
    run, steps = await snapshot(store, ns, lease.run_id)
    assert_failed_by_deadline(run)
    assert [(s.status, s.error) for s in steps] == [(StepStatus.FAILED, DEADLINE_FAILURE)]


async def test_deadline__later_calls_under_the_lease_still_say_deadline_exceeded(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    lease, _ = await begin_open_step(store, ns, queue)
    await set_deadline(backend, lease.run_id, utcnow() - PAST)
    for _ in range(2):
        with pytest.raises(RunDeadlineExceeded):
            await store.run_heartbeat(RunHeartbeatParams(lease, LEASE))
    assert_failed_by_deadline(await get_run(store, ns, lease.run_id))


@pytest.mark.parametrize("failer", FAILERS)
async def test_deadline__retry_landing_after_the_deadline_fails_the_run(
    store: Store, ns: str, queue: str, failer: str
) -> None:
    policy = RetryPolicy(2 * HOUR, 2.0, 4 * HOUR, 0)
    claimed = await start_run(store, ns, queue, deadline_at=utcnow() + HOUR, retry_policy=policy)
    error = failure()
    run = await FAILERS[failer](store, lease_of(claimed), error)
    assert run.status is RunStatus.FAILED
    assert run.error == error
    assert run.finished_at is not None
    assert (await claim(store, ns, queue)).claimed == []


@pytest.mark.parametrize("failer", FAILERS)
async def test_deadline__retry_before_the_deadline_is_scheduled(
    store: Store, ns: str, queue: str, failer: str
) -> None:
    policy = RetryPolicy(timedelta(minutes=1), 2.0, HOUR, 0)
    claimed = await start_run(store, ns, queue, deadline_at=utcnow() + HOUR, retry_policy=policy)
    run = await FAILERS[failer](store, lease_of(claimed), failure())
    assert (run.status, run.attempt) == (RunStatus.PENDING, 2)
