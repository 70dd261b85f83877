"""Group commit: run_create_many, step_complete_many and run_complete_many commit many
calls together, each call fenced on its own lease, and answer each as its single call
would have; one call's error changes nothing of its own and nothing of the others.
Concurrent single calls go through them (storage/group_commit.py) with the same results,
and their metrics events are reported once each."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage import (
    ExecutionAlreadyEnded,
    IdempotencyConflict,
    LeaseLost,
    RunDeadlineExceeded,
    StepKindMismatch,
    Store,
)
from storage.events import IGNORED
from storage.records import (
    ClaimedRun,
    Lease,
    RunCompleteParams,
    RunCreateResult,
    RunSleepParams,
    RunStatus,
    StepAttempt,
    StepBeginParams,
    StepCompleteParams,
    StepKind,
    StepStatus,
)
from tests.storage.helpers import (
    all_steps,
    claim,
    create_run,
    get_run,
    lease_of,
    make_create_params,
    utcnow,
)
from tests.storage.rawsql import Backend, set_deadline
from tests.storage.test_events import Recorder

STALE = "0190a4b0-0000-7000-8000-00000000dead"


def stale(lease: Lease) -> Lease:
    return Lease(lease.namespace_id, lease.run_id, STALE, lease.worker_id)


async def runs_claimed(store: Store, ns: str, queue: str, count: int) -> list[ClaimedRun]:
    for _ in range(count):
        await create_run(store, ns, queue)
    claimed = (await claim(store, ns, queue, max_runs=count)).claimed
    assert len(claimed) == count
    return claimed


# --- run_create_many --------------------------------------------------------------------


async def test_create_many__starts_each_run_and_keeps_idempotency(
    store: Store, ns: str, queue: str
) -> None:
    taken = await create_run(store, ns, queue, idempotency_key="taken")
    other = await create_run(store, ns, queue, workflow_name="other", idempotency_key="other")
    params = [
        make_create_params(ns, queue, input='{"n": 1}'),
        make_create_params(ns, queue, idempotency_key="taken"),
        make_create_params(ns, queue, idempotency_key="other"),  # another workflow's key
        make_create_params(ns, queue, idempotency_key="twice"),
        make_create_params(ns, queue, idempotency_key="twice"),  # the same key in the batch
        make_create_params(ns, queue, start_at=utcnow() + timedelta(hours=1)),
    ]

    first, again, conflict, twice, twice_again, later = await store.run_create_many(params)

    assert isinstance(first, RunCreateResult) and not first.existing
    assert (first.run.status, first.run.input) == (RunStatus.PENDING, '{"n": 1}')
    assert again == RunCreateResult(taken, existing=True)
    assert isinstance(conflict, IdempotencyConflict) and conflict.run_id == other.run_id
    assert isinstance(twice, RunCreateResult) and isinstance(twice_again, RunCreateResult)
    assert (twice.existing, twice_again.existing) == (False, True)
    assert twice_again.run.run_id == twice.run.run_id
    assert isinstance(later, RunCreateResult) and later.run.available_at is not None
    assert later.run.available_at > utcnow()
    created = [first.run, twice.run]
    claimed = (await claim(store, ns, queue)).claimed
    assert sorted(c.run.run_id for c in claimed) == sorted(
        [taken.run_id, other.run_id, *(run.run_id for run in created)]
    )


async def test_create_many__wakes_the_queue(store: Store, ns: str, queue: str) -> None:
    with store.wake_hub.subscribe(ns, queue) as woken:
        await store.run_create_many([make_create_params(ns, queue) for _ in range(3)])
        await asyncio.wait_for(woken.wait(), 10)


# --- step_complete_many -----------------------------------------------------------------


async def test_step_complete_many__answers_each_call_as_alone(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    a, b, c, d, e = await runs_claimed(store, ns, queue, 5)
    memoized = await store.step_complete(StepCompleteParams(lease_of(a), '"first"', step_id="m"))
    opened = await store.step_begin(StepBeginParams(lease_of(b), "open"))
    await store.run_sleep(RunSleepParams(lease_of(c), "nap", wake_up_at=utcnow()))
    await set_deadline(backend, e.run.run_id, utcnow() - timedelta(seconds=1))
    params = [
        StepCompleteParams(lease_of(a), '"one"', step_id="one"),
        StepCompleteParams(lease_of(a), '"two"', step_id="two"),  # same run, other step
        StepCompleteParams(lease_of(a), '"second"', step_id="m"),  # completed before
        StepCompleteParams(lease_of(b), '"by id"', step_attempt_id=opened.step_attempt_id),
        StepCompleteParams(lease_of(c), '"x"', step_id="nap"),  # a SLEEP step
        StepCompleteParams(stale(lease_of(d)), '"late"', step_id="s"),
        StepCompleteParams(lease_of(d), '"dup 1"', step_id="dup"),
        StepCompleteParams(lease_of(d), '"dup 2"', step_id="dup"),  # the same step twice
        StepCompleteParams(lease_of(e), '"overdue"', step_id="s"),
    ]

    one, two, m, by_id, nap, late, dup1, dup2, overdue = await store.step_complete_many(params)

    assert _completed(one, "one", '"one"') and _completed(two, "two", '"two"')
    assert m == memoized
    assert _completed(by_id, "open", '"by id"')
    assert isinstance(by_id, StepAttempt) and by_id.step_attempt_id == opened.step_attempt_id
    assert isinstance(nap, StepKindMismatch)
    assert isinstance(late, LeaseLost)
    assert _completed(dup1, "dup", '"dup 1"') and dup2 == dup1
    assert isinstance(overdue, RunDeadlineExceeded)
    assert (await get_run(store, ns, e.run.run_id)).status is RunStatus.FAILED
    assert [s.step_id for s in await all_steps(store, ns, d.run.run_id)] == ["dup"]
    assert {s.step_id for s in await all_steps(store, ns, a.run.run_id)} == {"m", "one", "two"}


def _completed(step: StepAttempt | Exception, step_id: str, output: str) -> bool:
    assert isinstance(step, StepAttempt), step
    assert (step.step_id, step.status, step.output, step.attempt) == (
        step_id,
        StepStatus.COMPLETED,
        output,
        1,
    )
    return step.kind is StepKind.FUNCTION


# --- run_complete_many ------------------------------------------------------------------


async def test_run_complete_many__completes_each_run_on_its_own_lease(
    store: Store, ns: str, queue: str
) -> None:
    a, b, c = await runs_claimed(store, ns, queue, 3)
    opened = await store.step_begin(StepBeginParams(lease_of(a), "left open"))
    params = [
        RunCompleteParams(lease_of(a), '"a"'),
        RunCompleteParams(stale(lease_of(b)), '"stale"'),
        RunCompleteParams(lease_of(c), None),
        RunCompleteParams(lease_of(c), '"again"'),  # the same run twice
    ]

    done_a, lost, done_c, again = await store.run_complete_many(params)

    assert not isinstance(done_a, Exception) and not isinstance(done_c, Exception)
    assert (done_a.status, done_a.output) == (RunStatus.COMPLETED, '"a"')
    assert (done_c.status, done_c.output) == (RunStatus.COMPLETED, None)
    assert isinstance(lost, LeaseLost) and isinstance(again, ExecutionAlreadyEnded)
    assert (await get_run(store, ns, b.run.run_id)).status is RunStatus.RUNNING
    (closed,) = await all_steps(store, ns, a.run.run_id)
    assert (closed.step_attempt_id, closed.status) == (opened.step_attempt_id, StepStatus.FAILED)


# --- through the single calls -----------------------------------------------------------


async def test_concurrent_single_calls__are_committed_and_reported_once_each(
    store: Store, ns: str, queue: str
) -> None:
    recorder = Recorder(ns)
    store.events = recorder
    try:
        created = await asyncio.gather(
            *(store.run_create(make_create_params(ns, queue)) for _ in range(12))
        )
        claimed = (await claim(store, ns, queue, max_runs=12)).claimed
        steps = await asyncio.gather(
            *(
                store.step_complete(StepCompleteParams(lease_of(c), f'"{n}"', step_id="s"))
                for n, c in enumerate(claimed)
            )
        )
        runs = await asyncio.gather(
            *(store.run_complete(RunCompleteParams(lease_of(c), None)) for c in claimed)
        )
    finally:
        store.events = IGNORED

    assert len({result.run.run_id for result in created}) == 12
    assert [step.output for step in steps] == [f'"{n}"' for n in range(12)]
    assert {run.status for run in runs} == {RunStatus.COMPLETED}
    events = recorder.take()
    assert events.count(("step_ended", StepStatus.COMPLETED)) == 12
    assert events.count(("run_ended", "wf", RunStatus.COMPLETED)) == 12


@pytest.mark.parametrize("calls", [1, 2, 50])
async def test_concurrent_single_calls__each_gets_its_own_error(
    store: Store, ns: str, queue: str, calls: int
) -> None:
    claimed = await runs_claimed(store, ns, queue, calls)
    results = await asyncio.gather(
        *(
            store.step_complete(
                StepCompleteParams(stale(lease_of(c)) if n % 2 else lease_of(c), "1", step_id="s")
            )
            for n, c in enumerate(claimed)
        ),
        return_exceptions=True,
    )
    for n, result in enumerate(results):
        assert isinstance(result, LeaseLost if n % 2 else StepAttempt), result
