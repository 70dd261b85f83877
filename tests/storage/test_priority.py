"""Priorities: claims take due runs by priority (1 first), then oldest first."""

from __future__ import annotations

from datetime import timedelta

from storage import Store
from storage.records import RunCancelParams, RunClaimResult, RunReplayParams
from tests.storage.helpers import (
    HOUR,
    claim,
    create_run,
    expire_lease,
    get_run,
    lease_of,
    start_run,
    utcnow,
)


def claimed_ids(result: RunClaimResult) -> list[str]:
    return [c.run.run_id for c in result.claimed]


async def test_priority__defaults_to_3_and_is_stored_with_the_concurrency_key(
    store: Store, ns: str, queue: str
) -> None:
    plain = await create_run(store, ns, queue)
    keyed = await create_run(store, ns, queue, priority=1, concurrency_key="customer-7")
    assert (plain.priority, plain.concurrency_key) == (3, None)
    assert (keyed.priority, keyed.concurrency_key) == (1, "customer-7")
    assert await get_run(store, ns, keyed.run_id) == keyed


async def test_claim__a_batch_takes_the_highest_priorities(
    store: Store, ns: str, queue: str
) -> None:
    low = [await create_run(store, ns, queue, priority=5) for _ in range(3)]
    normal = await create_run(store, ns, queue)
    high = await create_run(store, ns, queue, priority=1)
    result = await claim(store, ns, queue, max_runs=2)
    assert sorted(claimed_ids(result)) == sorted([high.run_id, normal.run_id])
    assert {c.run.run_id for c in (await claim(store, ns, queue)).claimed} == {
        r.run_id for r in low
    }


async def test_claim__one_run_at_a_time_follows_priority_then_age(
    store: Store, ns: str, queue: str
) -> None:
    low_old = await create_run(store, ns, queue, priority=5)
    normal = await create_run(store, ns, queue)
    high_new = await create_run(store, ns, queue, priority=1)
    low_new = await create_run(store, ns, queue, priority=5)
    second = await create_run(store, ns, queue, priority=2)
    order = [claimed_ids(await claim(store, ns, queue, max_runs=1)) for _ in range(5)]
    assert order == [[r.run_id] for r in (high_new, second, normal, low_old, low_new)]


async def test_claim__a_flood_of_low_priority_runs_does_not_delay_a_high_one(
    store: Store, ns: str, queue: str
) -> None:
    for _ in range(300):
        await create_run(store, ns, queue, priority=5)
    urgent = await create_run(store, ns, queue, priority=1)
    first_batch = claimed_ids(await claim(store, ns, queue, max_runs=10))
    assert urgent.run_id in first_batch


async def test_claim__a_future_high_priority_run_waits_for_its_time(
    store: Store, ns: str, queue: str
) -> None:
    await create_run(store, ns, queue, priority=1, start_at=utcnow() + HOUR)
    due = await create_run(store, ns, queue, priority=5)
    assert claimed_ids(await claim(store, ns, queue)) == [due.run_id]


async def test_claim__next_due_sees_every_priority(store: Store, ns: str, queue: str) -> None:
    await create_run(store, ns, queue, priority=4, start_at=utcnow() + timedelta(minutes=2))
    await create_run(store, ns, queue, priority=1, start_at=utcnow() + HOUR)
    result = await claim(store, ns, queue)
    assert result.claimed == []
    assert result.next_due_in is not None
    assert timedelta(minutes=1) < result.next_due_in <= timedelta(minutes=2)


async def test_claim__expired_leases_come_after_due_runs_of_any_priority(
    store: Store, ns: str, queue: str
) -> None:
    expired = await start_run(store, ns, queue)
    await expire_lease(store, lease_of(expired))
    low = await create_run(store, ns, queue, priority=5)
    result = await claim(store, ns, queue, max_runs=1)
    assert claimed_ids(result) == [low.run_id]


async def test_replay__keeps_the_priority_and_concurrency_key(
    store: Store, ns: str, queue: str
) -> None:
    original = await create_run(store, ns, queue, priority=2, concurrency_key="k")
    await store.run_cancel(RunCancelParams(ns, original.run_id, ""))
    replay = await store.run_replay(RunReplayParams(ns, original.run_id))
    assert (replay.run.priority, replay.run.concurrency_key) == (2, "k")
