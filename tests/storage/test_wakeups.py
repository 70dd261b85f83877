"""wake_hub: starts, retries, sleeps and releases wake the long polls of their queue once
committed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from storage import Store, create_store
from storage.notify import WakeHub
from storage.records import (
    ClaimedRun,
    RunFailParams,
    RunReleaseParams,
    RunSleepParams,
    StepFailParams,
)
from tests.storage.helpers import HOUR, claim_one, create_run, failure, lease_of, utcnow

WAIT = 5.0


async def woken(event: asyncio.Event) -> bool:
    try:
        await asyncio.wait_for(event.wait(), WAIT)
    except TimeoutError:
        return False
    return True


async def test_wakeup__store_has_a_wake_hub(store: Store) -> None:
    assert isinstance(store.wake_hub, WakeHub)


async def test_wakeup__create_wakes_the_queue(store: Store, ns: str, queue: str) -> None:
    with store.wake_hub.subscribe(ns, queue) as event:
        await create_run(store, ns, queue)
        assert await woken(event)


async def test_wakeup__delayed_create_wakes_the_queue(store: Store, ns: str, queue: str) -> None:
    with store.wake_hub.subscribe(ns, queue) as event:
        await create_run(store, ns, queue, start_at=utcnow() + HOUR)
        assert await woken(event)


async def test_wakeup__other_queues_are_not_woken(store: Store, ns: str, queue: str) -> None:
    with (
        store.wake_hub.subscribe(ns, f"{queue}-idle") as idle,
        store.wake_hub.subscribe(f"{ns}-other", queue) as other_ns,
        store.wake_hub.subscribe(ns, queue) as busy,
    ):
        await create_run(store, ns, queue)
        assert await woken(busy)
        # A later notification of a third queue arrives after any stray one of the first.
        with store.wake_hub.subscribe(ns, f"{queue}-last") as last:
            await create_run(store, ns, f"{queue}-last")
            assert await woken(last)
        assert not idle.is_set()
        assert not other_ns.is_set()


Action = Callable[[Store, ClaimedRun], Awaitable[object]]

ACTIONS: dict[str, Action] = {
    "step_fail_retry": lambda s, c: s.step_fail(
        StepFailParams(lease_of(c), failure(), step_id="x")
    ),
    "run_fail_retry": lambda s, c: s.run_fail(RunFailParams(lease_of(c), failure())),
    "run_sleep": lambda s, c: s.run_sleep(RunSleepParams(lease_of(c), "nap", duration=HOUR)),
    "run_release": lambda s, c: s.run_release(RunReleaseParams(lease_of(c))),
}


@pytest.mark.parametrize("action", ACTIONS)
async def test_wakeup__retries_sleeps_and_releases_wake_the_queue(
    store: Store, ns: str, queue: str, action: str
) -> None:
    with store.wake_hub.subscribe(ns, queue) as started:
        await create_run(store, ns, queue)
        assert await woken(started)  # the start's own notification is spent here
    claimed = await claim_one(store, ns, queue)
    with store.wake_hub.subscribe(ns, queue) as event:
        await ACTIONS[action](store, claimed)
        assert await woken(event)


@pytest.mark.postgres
async def test_wakeup__reaches_another_server_sharing_the_database(
    postgres_url: str, ns: str, queue: str
) -> None:
    here, there = create_store(postgres_url), create_store(postgres_url)
    await here.start()
    await there.start()
    try:
        await here.migrate()
        with there.wake_hub.subscribe(ns, queue) as event:
            await create_run(here, ns, queue)
            assert await woken(event)
    finally:
        await here.close()
        await there.close()
