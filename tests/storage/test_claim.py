"""run_claim: which runs are due, in which order, and what a claim records."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage import Store
from storage.records import RunClaimResult, RunStatus, StepBeginParams, StepStatus
from storage.rules import LEASE_EXPIRED_FAILURE
from tests.storage.helpers import (
    HOUR,
    LEASE,
    claim,
    claim_one,
    create_run,
    expire_lease,
    get_run,
    lease_of,
    start_run,
    utcnow,
    wait_until,
)
from tests.storage.states import make_run


def claimed_ids(result: RunClaimResult) -> list[str]:
    return [c.run.run_id for c in result.claimed]


async def test_claim__makes_a_pending_run_running(store: Store, ns: str, queue: str) -> None:
    run = await create_run(store, ns, queue)
    claimed = await claim_one(store, ns, queue, worker_id="worker-7")
    assert claimed.run.run_id == run.run_id
    assert claimed.run.status is RunStatus.RUNNING
    assert claimed.run.worker_id == "worker-7"
    assert claimed.run.started_at is not None
    assert claimed.run.attempt == 1
    assert claimed.lease_id
    assert claimed.steps == []


async def test_claim__lease_expiry_is_now_plus_duration(store: Store, ns: str, queue: str) -> None:
    await create_run(store, ns, queue)
    claimed = await claim_one(store, ns, queue, lease=timedelta(seconds=42))
    assert claimed.run.available_at == claimed.lease_expires_at
    assert claimed.lease_expires_at - claimed.run.updated_at == timedelta(seconds=42)
    assert claimed.run.started_at == claimed.run.updated_at


async def test_claim__claimed_run_is_what_get_returns(store: Store, ns: str, queue: str) -> None:
    await create_run(store, ns, queue)
    claimed = await claim_one(store, ns, queue)
    assert await get_run(store, ns, claimed.run.run_id) == claimed.run


async def test_claim__returns_nothing_when_the_queue_is_empty(
    store: Store, ns: str, queue: str
) -> None:
    result = await claim(store, ns, queue)
    assert result.claimed == []
    assert result.next_due_in is None


async def test_claim__skips_runs_with_live_lease(store: Store, ns: str, queue: str) -> None:
    await start_run(store, ns, queue)
    assert (await claim(store, ns, queue)).claimed == []


async def test_claim__next_due_in_counts_a_live_lease_expiry(
    store: Store, ns: str, queue: str
) -> None:
    await start_run(store, ns, queue)
    result = await claim(store, ns, queue)
    assert result.next_due_in is not None
    assert LEASE - timedelta(minutes=1) < result.next_due_in <= LEASE


async def test_claim__next_due_in_is_the_delay_of_a_delayed_run(
    store: Store, ns: str, queue: str
) -> None:
    await create_run(store, ns, queue, start_at=utcnow() + 2 * HOUR)
    await create_run(store, ns, queue, start_at=utcnow() + HOUR)
    result = await claim(store, ns, queue)
    assert result.claimed == []
    assert result.next_due_in is not None
    assert HOUR - timedelta(minutes=1) < result.next_due_in <= HOUR


async def test_claim__reclaims_an_expired_lease_with_a_fresh_lease_id(
    store: Store, ns: str, queue: str
) -> None:
    first = await start_run(store, ns, queue)
    await expire_lease(store, lease_of(first))
    second = await claim_one(store, ns, queue, worker_id="worker-2")
    assert second.run.run_id == first.run.run_id
    assert second.lease_id != first.lease_id
    assert second.run.status is RunStatus.RUNNING
    assert second.run.worker_id == "worker-2"
    assert second.run.available_at == second.lease_expires_at


async def test_claim__reclaim_keeps_started_at_and_attempt(
    store: Store, ns: str, queue: str
) -> None:
    first = await start_run(store, ns, queue)
    await expire_lease(store, lease_of(first))
    second = await claim_one(store, ns, queue)
    assert second.run.started_at == first.run.started_at
    assert second.run.attempt == first.run.attempt == 1
    assert second.run.created_at == first.run.created_at


async def test_claim__prefers_pending_over_expired_running_that_expired_earlier(
    store: Store, ns: str, queue: str
) -> None:
    running = await start_run(store, ns, queue)
    expired_at = await expire_lease(store, lease_of(running))
    pending = await create_run(store, ns, queue)
    assert pending.available_at is not None and pending.available_at > expired_at
    result = await claim(store, ns, queue, max_runs=1)
    assert claimed_ids(result) == [pending.run_id]
    assert claimed_ids(await claim(store, ns, queue, max_runs=1)) == [running.run.run_id]


async def test_claim__oldest_available_at_first(store: Store, ns: str, queue: str) -> None:
    now = utcnow()
    later = await create_run(store, ns, queue, start_at=now + timedelta(milliseconds=80))
    sooner = await create_run(store, ns, queue, start_at=now + timedelta(milliseconds=40))
    await wait_until(now + timedelta(milliseconds=80))
    assert claimed_ids(await claim(store, ns, queue, max_runs=1)) == [sooner.run_id]
    assert claimed_ids(await claim(store, ns, queue, max_runs=1)) == [later.run_id]


async def test_claim__batch_takes_the_oldest_runs(store: Store, ns: str, queue: str) -> None:
    runs = [await create_run(store, ns, queue) for _ in range(5)]
    result = await claim(store, ns, queue, max_runs=3)
    assert sorted(claimed_ids(result)) == sorted(r.run_id for r in runs[:3])
    assert len({c.lease_id for c in result.claimed}) == 3
    rest = await claim(store, ns, queue, max_runs=3)
    assert sorted(claimed_ids(rest)) == sorted(r.run_id for r in runs[3:])


async def test_claim__never_returns_terminal_runs(store: Store, ns: str, queue: str) -> None:
    for status in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED):
        await make_run(store, ns, status, queue=queue)
    result = await claim(store, ns, queue)
    assert result.claimed == []
    assert result.next_due_in is None


async def test_claim__honors_workflow_names(store: Store, ns: str, queue: str) -> None:
    a = await create_run(store, ns, queue, workflow_name="a")
    await create_run(store, ns, queue, workflow_name="b")
    c = await create_run(store, ns, queue, workflow_name="c")
    result = await claim(store, ns, queue, workflow_names=("a", "c"))
    assert sorted(claimed_ids(result)) == sorted([a.run_id, c.run_id])
    assert [c.run.workflow_name for c in (await claim(store, ns, queue)).claimed] == ["b"]


async def test_claim__ignores_other_queues(store: Store, ns: str, queue: str) -> None:
    await create_run(store, ns, f"{queue}-other")
    assert (await claim(store, ns, queue)).claimed == []


async def test_claim__ignores_other_namespaces(store: Store, ns: str, queue: str) -> None:
    await create_run(store, f"{ns}-other", queue)
    result = await claim(store, ns, queue)
    assert result.claimed == []
    assert result.next_due_in is None


async def test_claim__delayed_run_is_not_claimed_before_start_at(
    store: Store, ns: str, queue: str
) -> None:
    start_at = utcnow() + timedelta(milliseconds=200)
    run = await create_run(store, ns, queue, start_at=start_at)
    early = await claim(store, ns, queue)
    if utcnow() < start_at:  # the claim surely ran before start_at by the database clock
        assert early.claimed == []
    await wait_until(start_at)
    assert claimed_ids(await claim(store, ns, queue)) == [run.run_id]


async def test_claim__concurrent_claims_never_share_a_run(
    store: Store, ns: str, queue: str
) -> None:
    runs = [await create_run(store, ns, queue) for _ in range(12)]
    results = await asyncio.gather(*(claim(store, ns, queue, max_runs=3) for _ in range(8)))
    taken = [run_id for r in results for run_id in claimed_ids(r)]
    assert len(taken) == len(set(taken))
    taken += claimed_ids(await claim(store, ns, queue, max_runs=20))
    assert sorted(taken) == sorted(r.run_id for r in runs)


async def test_claim__concurrent_claims_of_one_run_hand_it_out_once(
    store: Store, ns: str, queue: str
) -> None:
    run = await create_run(store, ns, queue)
    results = await asyncio.gather(*(claim(store, ns, queue) for _ in range(8)))
    assert [i for r in results for i in claimed_ids(r)] == [run.run_id]


async def test_claim__reclaim_fails_attempts_the_lost_lease_left_open(
    store: Store, ns: str, queue: str
) -> None:
    first = await start_run(store, ns, queue)
    step = await store.step_begin(StepBeginParams(lease_of(first), "charge"))
    await expire_lease(store, lease_of(first))
    second = await claim_one(store, ns, queue)
    (closed,) = second.steps
    assert closed.step_attempt_id == step.step_attempt_id
    assert closed.status is StepStatus.FAILED
    assert closed.error == LEASE_EXPIRED_FAILURE
    assert closed.finished_at is not None
    again = await store.step_begin(StepBeginParams(lease_of(second), "charge"))
    assert (again.attempt, again.status) == (2, StepStatus.RUNNING)
