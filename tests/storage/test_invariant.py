"""Only a RUNNING run has RUNNING step attempts (besides the SLEEP attempt of a SLEEPING
run): every way a run leaves RUNNING closes its open attempts FAILED, saying why."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from storage import RunDeadlineExceeded, Store
from storage.records import (
    Failure,
    Lease,
    RunCancelParams,
    RunCompleteParams,
    RunFailParams,
    RunHeartbeatParams,
    RunReleaseParams,
    RunSleepParams,
    RunStatus,
    StepBeginParams,
    StepCompleteParams,
    StepFailParams,
    StepKind,
    StepStatus,
)
from storage.rules import (
    ABANDONED_FAILURE,
    DEADLINE_FAILURE,
    LEASE_EXPIRED_FAILURE,
    cancel_failure,
    released_failure,
)
from tests.storage.helpers import (
    FAST_POLICY,
    HOUR,
    LEASE,
    all_steps,
    assert_invariant,
    claim_eventually,
    claim_one,
    expire_lease,
    failure,
    lease_of,
    start_run,
    utcnow,
)
from tests.storage.rawsql import Backend, set_deadline

Transition = Callable[[Backend, Lease, str], Awaitable[Failure]]
"""Moves a RUNNING run (of the given queue) out of RUNNING; returns the error its open
attempts must be closed with."""


async def complete(backend: Backend, lease: Lease, queue: str) -> Failure:
    await backend.store.run_complete(RunCompleteParams(lease, None))
    return ABANDONED_FAILURE


async def fail_for_retry(backend: Backend, lease: Lease, queue: str) -> Failure:
    await backend.store.run_fail(RunFailParams(lease, failure()))
    return ABANDONED_FAILURE


async def fail_for_good(backend: Backend, lease: Lease, queue: str) -> Failure:
    await backend.store.run_fail(RunFailParams(lease, failure(non_retryable=True)))
    return ABANDONED_FAILURE


async def fail_another_step(backend: Backend, lease: Lease, queue: str) -> Failure:
    await backend.store.step_fail(StepFailParams(lease, failure(), step_id="other"))
    return ABANDONED_FAILURE


async def sleep(backend: Backend, lease: Lease, queue: str) -> Failure:
    await backend.store.run_sleep(RunSleepParams(lease, "nap", duration=HOUR))
    return ABANDONED_FAILURE


async def cancel(backend: Backend, lease: Lease, queue: str) -> Failure:
    await backend.store.run_cancel(RunCancelParams(lease.namespace_id, lease.run_id, "halt"))
    return cancel_failure("halt")


async def release(backend: Backend, lease: Lease, queue: str) -> Failure:
    await backend.store.run_release(RunReleaseParams(lease, "worker shutdown"))
    return released_failure("worker shutdown")


async def deadline_at_a_call(backend: Backend, lease: Lease, queue: str) -> Failure:
    await set_deadline(backend, lease.run_id, utcnow() - timedelta(seconds=1))
    with pytest.raises(RunDeadlineExceeded):
        await backend.store.run_heartbeat(RunHeartbeatParams(lease, LEASE))
    return DEADLINE_FAILURE


async def deadline_sweep(backend: Backend, lease: Lease, queue: str) -> Failure:
    await set_deadline(backend, lease.run_id, utcnow() - timedelta(seconds=1))
    await backend.store.run_fail_overdue(1_000_000)
    return DEADLINE_FAILURE


async def reclaim(backend: Backend, lease: Lease, queue: str) -> Failure:
    await expire_lease(backend.store, lease)
    await claim_one(backend.store, lease.namespace_id, queue)
    return LEASE_EXPIRED_FAILURE


TRANSITIONS: dict[str, Transition] = {
    "run_complete": complete,
    "run_fail_retried": fail_for_retry,
    "run_fail_final": fail_for_good,
    "step_fail_of_another_step": fail_another_step,
    "run_sleep": sleep,
    "run_cancel": cancel,
    "run_release": release,
    "deadline_at_a_worker_call": deadline_at_a_call,
    "deadline_sweep": deadline_sweep,
    "expired_lease_reclaimed": reclaim,
}


@pytest.mark.parametrize("name", TRANSITIONS)
async def test_invariant__leaving_running_closes_open_attempts(
    backend: Backend, store: Store, ns: str, queue: str, name: str
) -> None:
    claimed = await start_run(store, ns, queue, deadline_at=utcnow() + HOUR)
    lease = lease_of(claimed)
    done = await store.step_complete(StepCompleteParams(lease, '"ok"', step_id="done"))
    opened = [await store.step_begin(StepBeginParams(lease, s)) for s in ("a", "b")]
    expected = await TRANSITIONS[name](backend, lease, queue)
    steps = {s.step_attempt_id: s for s in await all_steps(store, ns, claimed.run.run_id)}
    assert steps[done.step_attempt_id] == done
    for step in opened:
        closed = steps[step.step_attempt_id]
        assert (closed.status, closed.error) == (StepStatus.FAILED, expected)
        assert closed.finished_at is not None
    await assert_invariant(store, ns, claimed.run.run_id)


async def test_invariant__holds_after_every_transition_of_a_long_run(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue, retry_policy=FAST_POLICY)
    run_id = claimed.run.run_id
    await store.step_begin(StepBeginParams(lease_of(claimed), "s1"))
    await assert_invariant(store, ns, run_id)
    await store.step_fail(StepFailParams(lease_of(claimed), failure(), step_id="s1"))
    await assert_invariant(store, ns, run_id)
    claimed = await claim_eventually(store, ns, queue)
    await store.step_complete(StepCompleteParams(lease_of(claimed), '"1"', step_id="s1"))
    await store.step_begin(StepBeginParams(lease_of(claimed), "s2"))
    await store.run_sleep(
        RunSleepParams(lease_of(claimed), "nap", duration=timedelta(milliseconds=1))
    )
    await assert_invariant(store, ns, run_id)
    claimed = await claim_eventually(store, ns, queue)
    await assert_invariant(store, ns, run_id)
    await store.step_begin(StepBeginParams(lease_of(claimed), "s2"))
    await expire_lease(store, lease_of(claimed))
    claimed = await claim_eventually(store, ns, queue)
    await assert_invariant(store, ns, run_id)
    await store.step_complete(StepCompleteParams(lease_of(claimed), '"2"', step_id="s2"))
    final = await store.run_complete(RunCompleteParams(lease_of(claimed), '"end"'))
    await assert_invariant(store, ns, run_id)
    steps = await all_steps(store, ns, run_id)
    assert [(s.step_id, s.kind, s.attempt, s.status) for s in steps] == [
        ("s1", StepKind.FUNCTION, 1, StepStatus.FAILED),
        ("s1", StepKind.FUNCTION, 2, StepStatus.COMPLETED),
        ("s2", StepKind.FUNCTION, 1, StepStatus.FAILED),
        ("nap", StepKind.SLEEP, 1, StepStatus.COMPLETED),
        ("s2", StepKind.FUNCTION, 2, StepStatus.FAILED),
        ("s2", StepKind.FUNCTION, 3, StepStatus.COMPLETED),
    ]
    assert [s.error for s in steps if s.status is StepStatus.FAILED] == [
        failure(),
        ABANDONED_FAILURE,
        LEASE_EXPIRED_FAILURE,
    ]
    assert (final.status, final.attempt) == (RunStatus.COMPLETED, 2)
