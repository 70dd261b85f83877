"""run_heartbeat: extends the lease, or tells the worker its run was canceled."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import LeaseLost, Store
from storage.records import RunCancelParams, RunHeartbeatParams, RunStatus
from tests.storage.helpers import (
    LEASE,
    claim,
    claim_one,
    expire_lease,
    get_run,
    lease_of,
    start_run,
)


async def test_heartbeat__extends_the_lease(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    beat = await store.run_heartbeat(RunHeartbeatParams(lease_of(claimed), 2 * LEASE))
    assert beat.cancel_requested is False
    assert beat.lease_expires_at is not None
    assert beat.lease_expires_at > claimed.lease_expires_at
    run = await get_run(store, ns, claimed.run.run_id)
    assert run.status is RunStatus.RUNNING
    assert run.available_at == beat.lease_expires_at


async def test_heartbeat__sets_expiry_to_now_plus_duration_even_when_shorter(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    expired_at = await expire_lease(store, lease_of(claimed))
    assert expired_at < claimed.lease_expires_at
    again = await claim_one(store, ns, queue)
    assert again.run.run_id == claimed.run.run_id


async def test_heartbeat__live_lease_keeps_the_run_from_other_claims(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await store.run_heartbeat(RunHeartbeatParams(lease_of(claimed), LEASE))
    assert (await claim(store, ns, queue)).claimed == []


async def test_heartbeat__cannot_revive_an_expired_lease(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    await expire_lease(store, lease_of(claimed))
    with pytest.raises(LeaseLost):
        await store.run_heartbeat(RunHeartbeatParams(lease_of(claimed), LEASE))
    run = await get_run(store, ns, claimed.run.run_id)
    assert run.available_at is not None and run.available_at < claimed.lease_expires_at


async def test_heartbeat__reports_cancel_requested_after_cancel_under_the_same_lease(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await store.run_cancel(RunCancelParams(ns, claimed.run.run_id, "user asked"))
    for _ in range(2):
        beat = await store.run_heartbeat(
            RunHeartbeatParams(lease_of(claimed), timedelta(seconds=30))
        )
        assert beat.cancel_requested is True
    assert (await get_run(store, ns, claimed.run.run_id)).status is RunStatus.CANCELED
