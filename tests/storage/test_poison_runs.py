"""Poison runs: lease expiries with no progress in between are counted (crash_count), a
step completed starts the count again, a release does not count, and at max_crashes the
run is FAILED with WORKER_CRASHED instead of claimed (both backends)."""

from __future__ import annotations

from storage import Store
from storage.records import (
    ClaimedRun,
    RunClaimParams,
    RunReleaseParams,
    RunStatus,
    StepCompleteParams,
    StepStatus,
)
from storage.rules import WORKER_CRASHED
from tests.storage.helpers import LEASE, all_steps, create_run, expire_lease, get_run, lease_of
from tests.storage.test_events import Recorder


async def claim(store: Store, ns: str, queue: str, max_crashes: int = 3) -> list[ClaimedRun]:
    result = await store.run_claim(
        RunClaimParams(ns, queue, "worker", (), 10, LEASE, max_crashes=max_crashes)
    )
    return result.claimed


async def crash(store: Store, claimed: ClaimedRun) -> None:
    """The worker holding `claimed` dies: its lease runs out."""
    await expire_lease(store, lease_of(claimed))


async def test_poison__expiries_with_no_progress_are_counted(
    store: Store, ns: str, queue: str
) -> None:
    await create_run(store, ns, queue)
    (first,) = await claim(store, ns, queue)
    assert first.run.crash_count == 0
    await crash(store, first)
    (second,) = await claim(store, ns, queue)
    assert second.run.crash_count == 1
    await crash(store, second)
    (third,) = await claim(store, ns, queue)
    assert third.run.crash_count == 2


async def test_poison__at_max_crashes_the_run_fails_with_worker_crashed(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    run = await create_run(store, ns, queue)
    for _ in range(3):
        (claimed,) = await claim(store, ns, queue)
        await crash(store, claimed)
    assert await claim(store, ns, queue) == []
    failed = await get_run(store, ns, run.run_id)
    assert failed.status is RunStatus.FAILED and failed.crash_count == 3
    assert failed.error is not None and failed.error.type == WORKER_CRASHED
    assert failed.error.non_retryable
    assert failed.finished_at is not None and failed.available_at is None
    events = recorder.take()
    assert events[-3:] == [
        ("lease_expired", "wf"),
        ("run_ended", "wf", RunStatus.FAILED),
        ("run_poisoned", "wf"),
    ]


async def test_poison__a_completed_step_starts_the_count_again(
    store: Store, ns: str, queue: str
) -> None:
    run = await create_run(store, ns, queue)
    (claimed,) = await claim(store, ns, queue)
    await crash(store, claimed)
    (claimed,) = await claim(store, ns, queue)
    await crash(store, claimed)
    (claimed,) = await claim(store, ns, queue)
    assert claimed.run.crash_count == 2
    await store.step_complete(StepCompleteParams(lease_of(claimed), "1", step_id="progress"))
    await crash(store, claimed)
    (claimed,) = await claim(store, ns, queue)
    assert claimed.run.crash_count == 1
    await crash(store, claimed)
    (claimed,) = await claim(store, ns, queue)
    assert claimed.run.crash_count == 2 and claimed.run.status is RunStatus.RUNNING
    steps = await all_steps(store, ns, run.run_id)
    assert [s.status for s in steps] == [StepStatus.COMPLETED]


async def test_poison__a_release_is_no_crash(store: Store, ns: str, queue: str) -> None:
    await create_run(store, ns, queue)
    for _ in range(4):
        (claimed,) = await claim(store, ns, queue)
        await store.run_release(RunReleaseParams(lease_of(claimed), "shutdown"))
    (claimed,) = await claim(store, ns, queue)
    assert claimed.run.crash_count == 0


async def test_poison__zero_max_crashes_claims_forever(store: Store, ns: str, queue: str) -> None:
    await create_run(store, ns, queue)
    for expected in range(5):
        (claimed,) = await claim(store, ns, queue, max_crashes=0)
        assert claimed.run.crash_count == expected
        await crash(store, claimed)
