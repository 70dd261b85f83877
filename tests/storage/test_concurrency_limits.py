"""Concurrency limits: a workflow's max_concurrency and max_concurrency_per_key hold back
due runs while the limit's slots are taken by RUNNING runs (both backends)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage import Store
from storage.records import (
    ClaimedRun,
    RunCancelParams,
    RunClaimParams,
    RunClaimResult,
    RunCompleteParams,
    RunFailParams,
    RunReleaseParams,
    RunSleepParams,
    RunStatus,
)
from storage.registry import (
    PoisonAction,
    WorkerRegisterParams,
    WorkflowDefinition,
    WorkflowPauseParams,
)
from tests.storage.helpers import (
    LEASE,
    WORKER,
    claim,
    create_run,
    expire_lease,
    failure,
    get_run,
    lease_of,
    utcnow,
    wait_until,
)
from tests.storage.waits_helpers import signal, wait_for

WINDOW = timedelta(minutes=1)
WF = "limited"


async def set_limits(
    store: Store, ns: str, queue: str, *, total: int = 0, per_key: int = 0, version: str = "v1"
) -> None:
    """Register the workflow's limits, as a worker (not the one that claims) does."""
    definition = WorkflowDefinition(
        WF, version, max_concurrency=total, max_concurrency_per_key=per_key
    )
    await store.worker_register(
        WorkerRegisterParams(ns, f"registrar-{version}", queue, (definition,), WINDOW)
    )


async def create_runs(store: Store, ns: str, queue: str, *keys: str | None) -> list[str]:
    return [
        (await create_run(store, ns, queue, workflow_name=WF, concurrency_key=key)).run_id
        for key in keys
    ]


def ids(result: RunClaimResult) -> set[str]:
    """The runs claimed (a claim's answer has no order)."""
    return {c.run.run_id for c in result.claimed}


async def in_use(store: Store, ns: str) -> int:
    return sum(s.in_use for s in await store.slots_in_use() if s.namespace_id == ns)


async def complete(store: Store, claimed: ClaimedRun) -> None:
    await store.run_complete(RunCompleteParams(lease_of(claimed), None))


def not_due(result: RunClaimResult) -> bool:
    """No run claimed and none said due now: a long poll waits for a wake-up."""
    return not result.claimed and (result.next_due_in is None or result.next_due_in > timedelta())


# --- the limits ---------------------------------------------------------------------------


async def test_limit__runs_beyond_max_concurrency_stay_pending_until_a_slot_frees(
    store: Store, ns: str, queue: str
) -> None:
    await set_limits(store, ns, queue, total=2)
    runs = await create_runs(store, ns, queue, None, None, None, None)
    first = await claim(store, ns, queue)
    assert ids(first) == set(runs[:2])
    assert not_due(await claim(store, ns, queue))
    assert (await get_run(store, ns, runs[2])).status == RunStatus.PENDING
    assert await in_use(store, ns) == 2
    await complete(store, first.claimed[0])
    assert ids(await claim(store, ns, queue)) == {runs[2]}
    assert await in_use(store, ns) == 2


async def test_limit__per_key_holds_each_key_to_its_limit(
    store: Store, ns: str, queue: str
) -> None:
    await set_limits(store, ns, queue, per_key=1)
    a1, a2, b1, b2, free1, free2 = await create_runs(
        store, ns, queue, "a", "a", "b", "b", None, None
    )
    # A run started without a key is held by the workflow-wide limit only (none here).
    assert ids(await claim(store, ns, queue)) == {a1, b1, free1, free2}
    assert not_due(await claim(store, ns, queue))
    assert [(await get_run(store, ns, r)).status for r in (a2, b2)] == [RunStatus.PENDING] * 2


async def test_limit__workflow_and_key_limits_together(store: Store, ns: str, queue: str) -> None:
    await set_limits(store, ns, queue, total=2, per_key=1)
    a1, a2, b1, c1 = await create_runs(store, ns, queue, "a", "a", "b", "c")
    assert ids(await claim(store, ns, queue)) == {a1, b1}
    assert not_due(await claim(store, ns, queue))
    assert {a2, c1}.isdisjoint(ids(await claim(store, ns, queue)))


async def test_limit__oldest_first_within_a_key(store: Store, ns: str, queue: str) -> None:
    await set_limits(store, ns, queue, per_key=1)
    runs = await create_runs(store, ns, queue, "a", "a", "a")
    order = []
    for _ in runs:
        result = await claim(store, ns, queue)
        order += [c.run.run_id for c in result.claimed]
        await complete(store, result.claimed[0])
    assert order == runs


async def test_limit__a_key_with_a_backlog_does_not_starve_other_keys(
    store: Store, ns: str, queue: str
) -> None:
    await set_limits(store, ns, queue, per_key=1)
    backlog = await create_runs(store, ns, queue, *(["busy"] * 60))
    (other,) = await create_runs(store, ns, queue, "quiet")
    assert ids(await claim(store, ns, queue, max_runs=1)) == {backlog[0]}
    # The busy key is full: the next claim walks past its 59 runs to the quiet key's.
    assert ids(await claim(store, ns, queue, max_runs=1)) == {other}


async def test_limit__a_workflow_without_limits_is_not_held(
    store: Store, ns: str, queue: str
) -> None:
    runs = await create_runs(store, ns, queue, "a", "a", "a")
    assert ids(await claim(store, ns, queue)) == set(runs)
    assert await in_use(store, ns) == 0


# --- what holds a slot ---------------------------------------------------------------------


async def test_slot__a_sleeping_run_does_not_hold_one(store: Store, ns: str, queue: str) -> None:
    await set_limits(store, ns, queue, total=1)
    sleeper, other = await create_runs(store, ns, queue, None, None)
    (claimed,) = (await claim(store, ns, queue)).claimed
    wake = utcnow() + timedelta(milliseconds=300)
    await store.run_sleep(RunSleepParams(lease_of(claimed), "nap", wake_up_at=wake))
    assert ids(await claim(store, ns, queue)) == {other}
    await wait_until(wake)
    # Woken, the sleeper is due again but waits for the slot `other` holds.
    assert not_due(await claim(store, ns, queue))
    assert (await get_run(store, ns, sleeper)).status == RunStatus.SLEEPING


async def test_slot__a_waiting_run_does_not_hold_one(store: Store, ns: str, queue: str) -> None:
    await set_limits(store, ns, queue, total=1)
    waiter, other = await create_runs(store, ns, queue, None, None)
    (claimed,) = (await claim(store, ns, queue)).claimed
    await wait_for(store, claimed, signal("approval", "approved"))
    assert (await get_run(store, ns, waiter)).status == RunStatus.WAITING
    assert ids(await claim(store, ns, queue)) == {other}


async def test_slot__an_expired_lease_keeps_it_until_taken_back(
    store: Store, ns: str, queue: str
) -> None:
    await set_limits(store, ns, queue, total=1)
    crashed, waiting = await create_runs(store, ns, queue, None, None)
    (claimed,) = (await claim(store, ns, queue)).claimed
    await expire_lease(store, lease_of(claimed))
    # Taken back, the run keeps its slot: the other run still waits.
    retaken = await claim(store, ns, queue)
    assert ids(retaken) == {crashed}
    assert await in_use(store, ns) == 1
    assert not_due(await claim(store, ns, queue))
    await complete(store, retaken.claimed[0])
    assert ids(await claim(store, ns, queue)) == {waiting}


async def test_slot__a_poison_run_failed_at_claim_frees_it(
    store: Store, ns: str, queue: str
) -> None:
    await set_limits(store, ns, queue, total=1)
    poison, waiting = await create_runs(store, ns, queue, None, None)
    (claimed,) = (await claim(store, ns, queue)).claimed
    await expire_lease(store, lease_of(claimed))
    # One crash is this claim's limit: the run is failed instead of taken back.
    await store.run_claim(RunClaimParams(ns, queue, WORKER, (), 10, LEASE, max_crashes=1))
    assert (await get_run(store, ns, poison)).status == RunStatus.FAILED
    assert ids(await claim(store, ns, queue)) == {waiting}


async def test_slot__a_poison_run_put_back_by_pause_frees_it(
    store: Store, ns: str, queue: str
) -> None:
    """on_poison PAUSE moves the run from RUNNING back to PENDING: its slot frees with it,
    and once the workflow is resumed the limit admits one run again (the other waiting
    run: it has been due longer than the run put back)."""
    definition = WorkflowDefinition(
        WF, "v1", max_concurrency=1, max_crashes=1, on_poison=PoisonAction.PAUSE
    )
    await store.worker_register(WorkerRegisterParams(ns, "registrar", queue, (definition,), WINDOW))
    poison, waiting = await create_runs(store, ns, queue, None, None)
    (claimed,) = (await claim(store, ns, queue)).claimed
    assert await in_use(store, ns) == 1
    await expire_lease(store, lease_of(claimed))
    assert (await claim(store, ns, queue)).claimed == []
    assert (await get_run(store, ns, poison)).status == RunStatus.PENDING
    assert await in_use(store, ns) == 0
    await store.workflow_pause(WorkflowPauseParams(ns, WF, False, "", WINDOW))
    assert ids(await claim(store, ns, queue)) == {waiting}
    assert await in_use(store, ns) == 1


async def test_slot__cancel_frees_it(store: Store, ns: str, queue: str) -> None:
    await set_limits(store, ns, queue, total=1)
    running, waiting = await create_runs(store, ns, queue, None, None)
    await claim(store, ns, queue)
    await store.run_cancel(RunCancelParams(ns, running))
    assert ids(await claim(store, ns, queue)) == {waiting}


async def test_slot__release_retry_and_failure_free_it(store: Store, ns: str, queue: str) -> None:
    await set_limits(store, ns, queue, total=1)
    runs = await create_runs(store, ns, queue, None, None, None)
    (released,) = (await claim(store, ns, queue)).claimed
    await store.run_release(RunReleaseParams(lease_of(released)))
    # Released, the run is due again (now, so behind the others); a slot is free.
    (failed,) = (await claim(store, ns, queue)).claimed
    await store.run_fail(RunFailParams(lease_of(failed), failure(non_retryable=True)))
    (retried,) = (await claim(store, ns, queue)).claimed
    await store.run_fail(RunFailParams(lease_of(retried), failure()))  # a retry, later
    (last,) = (await claim(store, ns, queue)).claimed
    assert [c.run.run_id for c in (failed, retried, last)] == [runs[1], runs[2], runs[0]]
    assert await in_use(store, ns) == 1


async def test_slot__a_deadline_frees_it(store: Store, ns: str, queue: str) -> None:
    await set_limits(store, ns, queue, total=1)
    deadline = utcnow() + timedelta(milliseconds=200)
    late = (await create_run(store, ns, queue, workflow_name=WF, deadline_at=deadline)).run_id
    (waiting,) = await create_runs(store, ns, queue, None)
    assert ids(await claim(store, ns, queue)) == {late}
    await wait_until(deadline)
    await store.run_fail_overdue(100)
    assert (await get_run(store, ns, late)).status == RunStatus.FAILED
    assert ids(await claim(store, ns, queue)) == {waiting}


# --- registration ---------------------------------------------------------------------------


async def test_limits__the_newest_version_registered_sets_them(
    store: Store, ns: str, queue: str
) -> None:
    await set_limits(store, ns, queue, total=1, version="v1")
    await set_limits(store, ns, queue, total=3, version="v2")
    await set_limits(store, ns, queue, total=1, version="v1")  # an old worker, again
    await create_runs(store, ns, queue, None, None, None, None)
    assert len(ids(await claim(store, ns, queue))) == 3


async def test_limits__a_limit_set_later_counts_the_runs_running_already(
    store: Store, ns: str, queue: str
) -> None:
    await set_limits(store, ns, queue)
    await create_runs(store, ns, queue, None, None)
    running = (await claim(store, ns, queue)).claimed
    (waiting,) = await create_runs(store, ns, queue, None)
    await set_limits(store, ns, queue, total=2)
    assert await in_use(store, ns) == 2
    assert not_due(await claim(store, ns, queue))
    await complete(store, running[0])
    assert ids(await claim(store, ns, queue)) == {waiting}


async def test_limits__removing_them_lets_held_back_runs_go(
    store: Store, ns: str, queue: str
) -> None:
    await set_limits(store, ns, queue, total=1)
    runs = await create_runs(store, ns, queue, None, None, None)
    await claim(store, ns, queue)
    await set_limits(store, ns, queue, total=0)
    assert ids(await claim(store, ns, queue)) == set(runs[1:])


async def test_limit__concurrent_claims_never_exceed_it(store: Store, ns: str, queue: str) -> None:
    await set_limits(store, ns, queue, total=3, per_key=2)
    await create_runs(store, ns, queue, *(["a"] * 10), *(["b"] * 10))
    results = await asyncio.gather(*(claim(store, ns, queue, max_runs=2) for _ in range(12)))
    claimed = [c for r in results for c in r.claimed]
    assert len(claimed) <= 3
    keys = [c.run.concurrency_key for c in claimed]
    assert keys.count("a") <= 2 and keys.count("b") <= 2
    assert await in_use(store, ns) == len(claimed)
