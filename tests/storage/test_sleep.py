"""run_sleep: a SLEEP attempt parks the run until its wake-up time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import LeaseLost, StepKindMismatch, Store
from storage.records import (
    ClaimedRun,
    RunHeartbeatParams,
    RunSleepParams,
    RunSleepResult,
    RunStatus,
    StepCompleteParams,
    StepKind,
    StepStatus,
)
from tests.storage.helpers import (
    HOUR,
    LEASE,
    all_steps,
    claim,
    claim_eventually,
    get_run,
    lease_of,
    snapshot,
    start_run,
    utcnow,
    wait_until,
)

SHORT = timedelta(milliseconds=30)


async def sleep(
    store: Store,
    claimed: ClaimedRun,
    *,
    step_id: str = "nap",
    wake_up_at: timedelta | None = None,
    duration: timedelta | None = None,
) -> RunSleepResult:
    """Sleep until now + `wake_up_at` (computed here), or for `duration` (by the store)."""
    at = None if wake_up_at is None else utcnow() + wake_up_at
    return await store.run_sleep(RunSleepParams(lease_of(claimed), step_id, at, duration))


async def test_sleep__parks_the_run_until_wake_up_at(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    wake_up_at = (utcnow() + HOUR).replace(microsecond=654321)
    result = await store.run_sleep(RunSleepParams(lease_of(claimed), "nap", wake_up_at))
    run, step = result.run, result.step
    assert (run.status, run.wake_up_at, run.available_at) == (
        RunStatus.SLEEPING,
        wake_up_at,
        wake_up_at,
    )
    assert (step.step_id, step.kind, step.status) == ("nap", StepKind.SLEEP, StepStatus.RUNNING)
    assert step.wake_up_at == wake_up_at
    assert run.attempt == 1
    assert await get_run(store, ns, run.run_id) == run
    assert await all_steps(store, ns, run.run_id) == [step]


async def test_sleep__releases_the_lease(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    await sleep(store, claimed, duration=HOUR)
    with pytest.raises(LeaseLost) as caught:
        await store.run_heartbeat(RunHeartbeatParams(lease_of(claimed), LEASE))
    assert caught.value.status is RunStatus.SLEEPING


async def test_sleep__sleeping_run_is_not_claimed_before_it_wakes(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await sleep(store, claimed, duration=HOUR)
    result = await claim(store, ns, queue)
    assert result.claimed == []
    assert result.next_due_in is not None
    assert HOUR - timedelta(minutes=1) < result.next_due_in <= HOUR


async def test_sleep__duration_wakes_at_now_plus_duration(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    result = await sleep(store, claimed, duration=HOUR)
    assert result.run.wake_up_at is not None
    assert result.run.wake_up_at - result.run.updated_at == HOUR
    assert result.step.wake_up_at == result.run.wake_up_at


async def test_sleep__woken_run_is_claimed_running_with_the_sleep_completed(
    store: Store, ns: str, queue: str
) -> None:
    first = await start_run(store, ns, queue)
    parked = await sleep(store, first, wake_up_at=SHORT)
    assert parked.run.wake_up_at is not None
    await wait_until(parked.run.wake_up_at)
    woken = await claim_eventually(store, ns, queue)
    assert woken.run.status is RunStatus.RUNNING
    assert woken.lease_id != first.lease_id
    assert (woken.run.attempt, woken.run.started_at) == (1, first.run.started_at)
    (step,) = woken.steps
    assert (step.step_attempt_id, step.status) == (
        parked.step.step_attempt_id,
        StepStatus.COMPLETED,
    )
    assert step.finished_at is not None
    assert woken.steps == await all_steps(store, ns, first.run.run_id)


async def test_sleep__same_step_after_waking_returns_the_completed_sleep(
    store: Store, ns: str, queue: str
) -> None:
    first = await start_run(store, ns, queue)
    await sleep(store, first, duration=SHORT)
    woken = await claim_eventually(store, ns, queue)
    before = await snapshot(store, ns, first.run.run_id)
    again = await sleep(store, woken, duration=HOUR)
    assert again.step == woken.steps[0]
    assert again.run.status is RunStatus.RUNNING
    assert (again.run, [again.step]) == before
    assert await snapshot(store, ns, first.run.run_id) == before
    beat = await store.run_heartbeat(RunHeartbeatParams(lease_of(woken), LEASE))
    assert beat.cancel_requested is False


async def test_sleep__wake_up_time_already_passed_completes_at_once(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    result = await sleep(store, claimed, wake_up_at=-timedelta(seconds=1))
    assert result.step.status is StepStatus.COMPLETED
    assert result.step.kind is StepKind.SLEEP
    assert result.run.status is RunStatus.RUNNING
    beat = await store.run_heartbeat(RunHeartbeatParams(lease_of(claimed), LEASE))
    assert beat.cancel_requested is False
    assert (await claim(store, ns, queue)).claimed == []


async def test_sleep__step_id_of_a_function_step_raises_kind_mismatch(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await store.step_complete(StepCompleteParams(lease_of(claimed), '"x"', step_id="nap"))
    with pytest.raises(StepKindMismatch):
        await sleep(store, claimed, duration=HOUR)
    assert (await get_run(store, ns, claimed.run.run_id)).status is RunStatus.RUNNING


async def test_sleep__wake_up_does_not_count_as_an_attempt(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    for i in range(3):
        await sleep(store, claimed, step_id=f"nap-{i}", duration=timedelta(milliseconds=1))
        claimed = await claim_eventually(store, ns, queue)
    assert claimed.run.attempt == 1
    assert [s.status for s in claimed.steps] == [StepStatus.COMPLETED] * 3
