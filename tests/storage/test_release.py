"""run_release: the lease holder hands a RUNNING run back, claimable at once.

Stale, expired, canceled and unknown leases, and the deadline, are covered with every
other worker call by the fencing, deadline and invariant suites (OPS, TRANSITIONS);
the wake-up by test_wakeups (ACTIONS).
"""

from __future__ import annotations

import pytest

from storage import LeaseLost, Store
from storage.records import (
    RunCancelParams,
    RunFailParams,
    RunHeartbeatParams,
    RunReleaseParams,
    RunSleepParams,
    RunStatus,
    StepBeginParams,
    StepCompleteParams,
    StepStatus,
)
from storage.rules import RELEASED_FAILURE, released_failure
from tests.storage.helpers import (
    FAST_POLICY,
    HOUR,
    LEASE,
    all_steps,
    claim_eventually,
    claim_one,
    failure,
    get_run,
    lease_of,
    snapshot,
    start_run,
)


async def test_release__running_run_becomes_pending_and_due_now(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    released = await store.run_release(RunReleaseParams(lease_of(claimed), "worker shutdown"))
    assert released.status is RunStatus.PENDING
    # Due at the database clock's "now": the transaction's own time.
    assert released.available_at == released.updated_at
    assert (released.worker_id, released.wake_up_at, released.finished_at) == (None, None, None)
    assert (released.attempt, released.error) == (1, None)
    assert released.started_at == claimed.run.started_at
    assert await get_run(store, ns, claimed.run.run_id) == released


async def test_release__attempt_and_error_of_a_retried_run_are_unchanged(
    store: Store, ns: str, queue: str
) -> None:
    first = await start_run(store, ns, queue, retry_policy=FAST_POLICY)
    await store.run_fail(RunFailParams(lease_of(first), failure()))
    retry = await claim_eventually(store, ns, queue)
    assert retry.run.attempt == 2
    released = await store.run_release(RunReleaseParams(lease_of(retry)))
    assert (released.status, released.attempt, released.error) == (
        RunStatus.PENDING,
        2,
        failure(),
    )


async def test_release__run_is_claimed_at_once_under_a_new_lease(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await store.run_release(RunReleaseParams(lease_of(claimed)))
    again = await claim_one(store, ns, queue, worker_id="worker-2")
    assert again.run.run_id == claimed.run.run_id
    assert again.lease_id != claimed.lease_id
    assert (again.run.status, again.run.worker_id, again.run.attempt) == (
        RunStatus.RUNNING,
        "worker-2",
        1,
    )
    with pytest.raises(LeaseLost):
        await store.step_begin(StepBeginParams(lease_of(claimed), "late"))


@pytest.mark.parametrize("reason", ["", "worker shutdown"], ids=["no_reason", "reason"])
async def test_release__open_attempts_fail_as_released_and_completed_ones_stay(
    store: Store, ns: str, queue: str, reason: str
) -> None:
    claimed = await start_run(store, ns, queue)
    lease = lease_of(claimed)
    done = await store.step_complete(StepCompleteParams(lease, '"ok"', step_id="done"))
    await store.step_begin(StepBeginParams(lease, "open"))
    await store.run_release(RunReleaseParams(lease, reason))
    steps = await all_steps(store, ns, claimed.run.run_id)
    assert steps[0] == done
    assert (steps[1].step_id, steps[1].status, steps[1].error) == (
        "open",
        StepStatus.FAILED,
        released_failure(reason),
    )
    assert steps[1].error is not None and steps[1].error.type == RELEASED_FAILURE.type
    assert steps[1].error.message == (reason or RELEASED_FAILURE.message)


async def test_release__released_step_runs_again_as_its_next_attempt(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await store.step_begin(StepBeginParams(lease_of(claimed), "charge"))
    await store.run_release(RunReleaseParams(lease_of(claimed)))
    again = await claim_one(store, ns, queue)
    assert [(s.step_id, s.status) for s in again.steps] == [("charge", StepStatus.FAILED)]
    retried = await store.step_begin(StepBeginParams(lease_of(again), "charge"))
    assert (retried.status, retried.attempt) == (StepStatus.RUNNING, 2)


async def test_release__second_release_under_the_same_lease_is_lease_lost(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await store.run_release(RunReleaseParams(lease_of(claimed)))
    before = await snapshot(store, ns, claimed.run.run_id)
    with pytest.raises(LeaseLost) as caught:
        await store.run_release(RunReleaseParams(lease_of(claimed)))
    assert caught.value.status is RunStatus.PENDING
    assert await snapshot(store, ns, claimed.run.run_id) == before


async def test_release__cancel_after_release_is_not_reported_to_the_released_lease(
    store: Store, ns: str, queue: str
) -> None:
    # The lease is cleared: the worker that let go is not told about the run's later life.
    claimed = await start_run(store, ns, queue)
    await store.run_release(RunReleaseParams(lease_of(claimed)))
    await store.run_cancel(RunCancelParams(ns, claimed.run.run_id, "stop"))
    with pytest.raises(LeaseLost):
        await store.run_heartbeat(RunHeartbeatParams(lease_of(claimed), LEASE))


async def test_release__sleeping_run_has_no_lease_to_release(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await store.run_sleep(RunSleepParams(lease_of(claimed), "nap", duration=HOUR))
    before = await snapshot(store, ns, claimed.run.run_id)
    with pytest.raises(LeaseLost) as caught:
        await store.run_release(RunReleaseParams(lease_of(claimed)))
    assert caught.value.status is RunStatus.SLEEPING
    assert await snapshot(store, ns, claimed.run.run_id) == before
