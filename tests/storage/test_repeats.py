"""Repeated endings: a call that ends an execution (run_complete, run_fail, run_sleep,
step_fail), sent again under the same lease because its answer was lost, answers what
its first sending recorded and changes nothing, reporting no event twice. The rule
(rules.repeats_ending and the *_again rules): the run's lease_id is still the call's
(no claim since) and the recorded ending equals the request. Otherwise a run that moved
on under another lease is LeaseLost, and another result under the same lease is
ExecutionAlreadyEnded. A release clears the lease, so a repeated release is LeaseLost
(test_release.py); a cancel or a deadline keeps its own error (test_fencing.py,
test_deadline.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage import ExecutionAlreadyEnded, LeaseLost, Store
from storage.records import (
    ClaimedRun,
    Failure,
    Lease,
    RunCompleteParams,
    RunFailParams,
    RunSleepParams,
    RunStatus,
    StepBeginParams,
    StepFailParams,
    StepStatus,
)
from tests.storage.fencing import ENDING_OPS, OPS, completed_run
from tests.storage.helpers import (
    FAST_POLICY,
    HOUR,
    claim,
    claim_eventually,
    create_run,
    expire_lease,
    failure,
    lease_of,
    snapshot,
    start_run,
    utcnow,
)
from tests.storage.test_events import Recorder

OUTPUT = '{"order": 7, "items": ["a", "b"], "total": 12.5}'
SAME_OUTPUT = '{ "total": 12.50, "items": ["a","b"], "order": 7.0 }'
"""OUTPUT as another encoder writes it: key order, spacing and number form aside."""


async def reclaimed(store: Store, ns: str, queue: str, lease: Lease) -> ClaimedRun:
    """The run claimed again under a new lease (after `lease` expired, or once due)."""
    if (await snapshot(store, ns, lease.run_id))[0].status is RunStatus.RUNNING:
        await expire_lease(store, lease)
    claimed = await claim_eventually(store, ns, queue, worker_id="new-owner")
    assert claimed.lease_id != lease.lease_id
    return claimed


# --- run_complete -----------------------------------------------------------------------


async def test_repeat__complete_answers_the_recorded_run_unchanged(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    lease = lease_of(await start_run(store, ns, queue, workflow_name="orders"))
    first = await store.run_complete(RunCompleteParams(lease, OUTPUT))
    before = await snapshot(store, ns, lease.run_id)
    again = await store.run_complete(RunCompleteParams(lease, SAME_OUTPUT))
    assert again == first
    assert again.output == OUTPUT  # the recorded output, as first written
    assert await snapshot(store, ns, lease.run_id) == before
    assert recorder.take() == [
        ("run_claimed", queue),
        ("run_ended", "orders", RunStatus.COMPLETED),
    ]


async def test_repeat__complete_without_output_answers_the_run(
    store: Store, ns: str, queue: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    first = await store.run_complete(RunCompleteParams(lease, None))
    assert await store.run_complete(RunCompleteParams(lease, None)) == first


@pytest.mark.parametrize(
    "other",
    ['{"order": 8, "items": ["a", "b"], "total": 12.5}', '"done"', "null", None, "1"],
    ids=["other_value", "other_type", "json_null", "no_output", "number"],
)
async def test_repeat__complete_with_another_output_is_execution_already_ended(
    store: Store, ns: str, queue: str, recorder: Recorder, other: str | None
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    await store.run_complete(RunCompleteParams(lease, OUTPUT))
    recorder.take()
    before = await snapshot(store, ns, lease.run_id)
    with pytest.raises(ExecutionAlreadyEnded) as caught:
        await store.run_complete(RunCompleteParams(lease, other))
    assert (caught.value.run_id, caught.value.status) == (lease.run_id, RunStatus.COMPLETED)
    assert await snapshot(store, ns, lease.run_id) == before
    assert recorder.take() == []


async def test_repeat__true_is_not_the_number_one(store: Store, ns: str, queue: str) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    await store.run_complete(RunCompleteParams(lease, "true"))
    with pytest.raises(ExecutionAlreadyEnded):
        await store.run_complete(RunCompleteParams(lease, "1"))


async def test_repeat__complete_after_another_lease_completed_the_run_is_lease_lost(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    other = lease_of(await reclaimed(store, ns, queue, lease))
    await store.run_complete(RunCompleteParams(other, OUTPUT))
    recorder.take()
    before = await snapshot(store, ns, lease.run_id)
    # Even with the very output: that completion was another execution's, not this one's.
    with pytest.raises(LeaseLost) as caught:
        await store.run_complete(RunCompleteParams(lease, OUTPUT))
    assert caught.value.status is RunStatus.COMPLETED
    assert await snapshot(store, ns, lease.run_id) == before
    assert recorder.take() == []


@pytest.mark.parametrize("op", sorted(ENDING_OPS))
async def test_repeat__another_ending_after_the_lease_completed_the_run_is_execution_already_ended(
    store: Store, ns: str, queue: str, op: str
) -> None:
    done = await completed_run(store, ns, queue)
    before = await snapshot(store, ns, done.lease.run_id)
    with pytest.raises(ExecutionAlreadyEnded) as caught:
        await OPS[op](store, done.lease, done.step.step_attempt_id)
    assert caught.value.status is RunStatus.COMPLETED
    assert await snapshot(store, ns, done.lease.run_id) == before


# --- run_fail ---------------------------------------------------------------------------


async def test_repeat__fail_that_scheduled_a_retry_answers_the_pending_run_unchanged(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    error = failure(details='{"code": 1, "why": ["x"]}')
    first = await store.run_fail(RunFailParams(lease, error))
    assert (first.status, first.attempt) == (RunStatus.PENDING, 2)
    before = await snapshot(store, ns, lease.run_id)
    same = failure(details='{"why": ["x"], "code": 1.0}')
    assert await store.run_fail(RunFailParams(lease, same)) == first
    # Not retried twice: the same attempt number and retry time.
    assert await snapshot(store, ns, lease.run_id) == before
    assert recorder.take() == [("run_claimed", queue)]


async def test_repeat__fail_for_good_answers_the_failed_run_and_reports_it_once(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    lease = lease_of(await start_run(store, ns, queue, workflow_name="fatal"))
    error = failure("Fatal", non_retryable=True)
    first = await store.run_fail(RunFailParams(lease, error))
    assert first.status is RunStatus.FAILED
    before = await snapshot(store, ns, lease.run_id)
    assert await store.run_fail(RunFailParams(lease, error)) == first
    assert await snapshot(store, ns, lease.run_id) == before
    assert recorder.take() == [("run_claimed", queue), ("run_ended", "fatal", RunStatus.FAILED)]


@pytest.mark.parametrize(
    "other",
    [
        failure("Other"),
        failure(non_retryable=True),
        failure(details='{"code": 2}'),
        failure(details="null"),
    ],
    ids=["type", "non_retryable", "details", "json_null_details"],
)
async def test_repeat__fail_with_another_error_is_execution_already_ended(
    store: Store, ns: str, queue: str, other: Failure
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    await store.run_fail(RunFailParams(lease, failure()))
    before = await snapshot(store, ns, lease.run_id)
    with pytest.raises(ExecutionAlreadyEnded) as caught:
        await store.run_fail(RunFailParams(lease, other))
    assert caught.value.status is RunStatus.PENDING
    assert await snapshot(store, ns, lease.run_id) == before


async def test_repeat__fail_after_the_retry_was_claimed_is_lease_lost(
    store: Store, ns: str, queue: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue, retry_policy=FAST_POLICY))
    await store.run_fail(RunFailParams(lease, failure()))
    retry = await reclaimed(store, ns, queue, lease)
    before = await snapshot(store, ns, lease.run_id)
    with pytest.raises(LeaseLost) as caught:
        await store.run_fail(RunFailParams(lease, failure()))
    assert caught.value.status is RunStatus.RUNNING
    assert await snapshot(store, ns, lease.run_id) == before
    assert before[0].attempt == retry.run.attempt == 2


async def test_repeat__fail_after_another_lease_failed_the_run_alike_is_lease_lost(
    store: Store, ns: str, queue: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue, retry_policy=FAST_POLICY))
    await store.run_fail(RunFailParams(lease, failure()))
    retry = lease_of(await reclaimed(store, ns, queue, lease))
    await store.run_fail(RunFailParams(retry, failure()))
    before = await snapshot(store, ns, lease.run_id)
    assert (before[0].status, before[0].error) == (RunStatus.PENDING, failure())
    # The run is as the first call left it, but by another execution's ending.
    with pytest.raises(LeaseLost):
        await store.run_fail(RunFailParams(lease, failure()))
    assert await snapshot(store, ns, lease.run_id) == before


async def test_repeat__complete_after_the_lease_failed_the_run_is_execution_already_ended(
    store: Store, ns: str, queue: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    await store.run_fail(RunFailParams(lease, failure()))
    with pytest.raises(ExecutionAlreadyEnded) as caught:
        await store.run_complete(RunCompleteParams(lease, OUTPUT))
    assert caught.value.status is RunStatus.PENDING


# --- run_sleep --------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["duration", "wake_up_at"])
async def test_repeat__sleep_answers_the_recorded_sleep_unchanged(
    store: Store, ns: str, queue: str, by: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    if by == "duration":
        params = RunSleepParams(lease, "nap", duration=HOUR)
    else:
        params = RunSleepParams(lease, "nap", wake_up_at=utcnow() + HOUR)
    first = await store.run_sleep(params)
    assert first.run.status is RunStatus.SLEEPING
    before = await snapshot(store, ns, lease.run_id)
    # The repeat comes later by the clock: a duration counts from the recorded sleep.
    await asyncio.sleep(0.01)
    assert await store.run_sleep(params) == first
    assert await snapshot(store, ns, lease.run_id) == before


async def test_repeat__sleep_with_another_step_or_wake_up_is_execution_already_ended(
    store: Store, ns: str, queue: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    wake = utcnow() + HOUR
    await store.run_sleep(RunSleepParams(lease, "nap", wake_up_at=wake))
    before = await snapshot(store, ns, lease.run_id)
    others = [
        RunSleepParams(lease, "siesta", wake_up_at=wake),
        RunSleepParams(lease, "nap", wake_up_at=wake + timedelta(microseconds=1)),
        RunSleepParams(lease, "nap", duration=HOUR),
    ]
    for other in others:
        with pytest.raises(ExecutionAlreadyEnded) as caught:
            await store.run_sleep(other)
        assert caught.value.status is RunStatus.SLEEPING
    assert await snapshot(store, ns, lease.run_id) == before


async def test_repeat__sleep_after_the_wake_up_was_claimed_is_lease_lost(
    store: Store, ns: str, queue: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    params = RunSleepParams(lease, "nap", duration=timedelta(milliseconds=20))
    await store.run_sleep(params)
    await reclaimed(store, ns, queue, lease)
    before = await snapshot(store, ns, lease.run_id)
    with pytest.raises(LeaseLost) as caught:
        await store.run_sleep(params)
    assert caught.value.status is RunStatus.RUNNING
    assert await snapshot(store, ns, lease.run_id) == before


# --- step_fail --------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["step_id", "step_attempt_id"])
async def test_repeat__step_fail_answers_the_recorded_attempt_and_run(
    store: Store, ns: str, queue: str, recorder: Recorder, by: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    if by == "step_id":
        params = StepFailParams(lease, failure(), step_id="charge")
    else:
        opened = await store.step_begin(StepBeginParams(lease, "charge"))
        params = StepFailParams(lease, failure(), step_attempt_id=opened.step_attempt_id)
    first = await store.step_fail(params)
    assert (first.step.status, first.run.status) == (StepStatus.FAILED, RunStatus.PENDING)
    before = await snapshot(store, ns, lease.run_id)
    assert await store.step_fail(params) == first
    assert await snapshot(store, ns, lease.run_id) == before
    assert recorder.take() == [("run_claimed", queue), ("step_ended", StepStatus.FAILED)]


async def test_repeat__step_fail_that_failed_the_run_for_good_answers_it(
    store: Store, ns: str, queue: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    params = StepFailParams(lease, failure(non_retryable=True), step_id="charge")
    first = await store.step_fail(params)
    assert first.run.status is RunStatus.FAILED
    assert await store.step_fail(params) == first


async def test_repeat__step_fail_of_another_step_or_error_is_execution_already_ended(
    store: Store, ns: str, queue: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue))
    opened = await store.step_begin(StepBeginParams(lease, "charge"))
    await store.step_fail(StepFailParams(lease, failure(), step_attempt_id=opened.step_attempt_id))
    before = await snapshot(store, ns, lease.run_id)
    others = [
        StepFailParams(lease, failure("Other"), step_attempt_id=opened.step_attempt_id),
        StepFailParams(lease, failure("Other"), step_id="charge"),
        StepFailParams(lease, failure(), step_id="refund"),
        StepFailParams(lease, failure(), step_attempt_id=opened.workflow_run_id),
    ]
    for other in others:
        with pytest.raises(ExecutionAlreadyEnded):
            await store.step_fail(other)
    assert await snapshot(store, ns, lease.run_id) == before


async def test_repeat__step_fail_after_the_retry_was_claimed_is_lease_lost(
    store: Store, ns: str, queue: str
) -> None:
    lease = lease_of(await start_run(store, ns, queue, retry_policy=FAST_POLICY))
    params = StepFailParams(lease, failure(), step_id="charge")
    await store.step_fail(params)
    await reclaimed(store, ns, queue, lease)
    before = await snapshot(store, ns, lease.run_id)
    with pytest.raises(LeaseLost):
        await store.step_fail(params)
    assert await snapshot(store, ns, lease.run_id) == before


# --- group commit -----------------------------------------------------------------------


async def test_repeat__in_a_batch_each_call_gets_its_own_answer(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    for _ in range(3):
        await create_run(store, ns, queue)
    done, fresh, stale = (await claim(store, ns, queue, max_runs=3)).claimed
    first = await store.run_complete(RunCompleteParams(lease_of(done), OUTPUT))
    other = lease_of(await reclaimed(store, ns, queue, lease_of(stale)))
    recorder.take()
    params = [
        RunCompleteParams(lease_of(done), SAME_OUTPUT),  # a repeat
        RunCompleteParams(lease_of(done), '"other"'),  # another result
        RunCompleteParams(lease_of(fresh), '"fresh"'),  # a first completion
        RunCompleteParams(lease_of(fresh), '"fresh"'),  # and its repeat, in the same batch
        RunCompleteParams(lease_of(stale), OUTPUT),  # a lease another claim replaced
    ]

    repeat, conflict, completed, completed_again, lost = await store.run_complete_many(params)

    assert repeat == first
    assert isinstance(conflict, ExecutionAlreadyEnded)
    assert not isinstance(completed, Exception)
    assert (completed.status, completed.output) == (RunStatus.COMPLETED, '"fresh"')
    assert completed_again == completed
    assert isinstance(lost, LeaseLost)
    assert (await snapshot(store, ns, other.run_id))[0].status is RunStatus.RUNNING
    assert recorder.take() == [("run_ended", "wf", RunStatus.COMPLETED)]


async def test_repeat__concurrent_single_calls_are_answered_alike_and_reported_once(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    # Concurrent calls go through run_complete_many (storage/group_commit.py): the first
    # sending and its repeats, some in one batch, some in the next.
    for _ in range(4):
        await create_run(store, ns, queue)
    claimed = (await claim(store, ns, queue, max_runs=4)).claimed
    calls = [RunCompleteParams(lease_of(c), f'"{n}"') for n, c in enumerate(claimed)]
    results = await asyncio.gather(*(store.run_complete(p) for p in calls * 3))
    for n, run in enumerate(results):
        assert (run.status, run.output) == (RunStatus.COMPLETED, f'"{n % 4}"')
    assert recorder.take().count(("run_ended", "wf", RunStatus.COMPLETED)) == 4
