"""Fencing: a call whose lease is not the run's current, unexpired lease changes nothing."""

from __future__ import annotations

import dataclasses

import pytest

from storage import LeaseLost, RunNotFound, Store
from storage.ids import uuid7
from storage.records import Lease, RunHeartbeatParams, RunStatus
from tests.storage.fencing import ENDING_OPS, OPS, SCENARIOS, begin_open_step, canceled_run
from tests.storage.helpers import LEASE, snapshot

MATRIX = [
    pytest.param(scenario, op, id=f"{op}-{scenario}")
    for scenario in SCENARIOS
    for op in OPS
    # A heartbeat under the lease a cancel ended answers cancel_requested instead.
    if (scenario, op) != ("canceled_run", "heartbeat")
    # A call that ends an execution under the lease that completed the run is compared
    # with that completion (test_repeats.py).
    and not (scenario == "completed_run" and op in ENDING_OPS)
]


@pytest.mark.parametrize(("scenario", "op"), MATRIX)
async def test_fencing__stale_call_raises_lease_lost_and_changes_nothing(
    store: Store, ns: str, queue: str, scenario: str, op: str
) -> None:
    stale = await SCENARIOS[scenario](store, ns, queue)
    before = await snapshot(store, ns, stale.lease.run_id)
    with pytest.raises(LeaseLost) as caught:
        await OPS[op](store, stale.lease, stale.step.step_attempt_id)
    assert caught.value.run_id == stale.lease.run_id
    assert caught.value.status is before[0].status
    assert await snapshot(store, ns, stale.lease.run_id) == before


async def test_fencing__heartbeat_under_the_canceled_lease_reports_cancel_requested(
    store: Store, ns: str, queue: str
) -> None:
    stale = await canceled_run(store, ns, queue)
    before = await snapshot(store, ns, stale.lease.run_id)
    beat = await store.run_heartbeat(RunHeartbeatParams(stale.lease, LEASE))
    assert beat.cancel_requested is True
    assert await snapshot(store, ns, stale.lease.run_id) == before
    assert before[0].status is RunStatus.CANCELED


async def test_fencing__heartbeat_under_another_lease_of_a_canceled_run_is_lease_lost(
    store: Store, ns: str, queue: str
) -> None:
    stale = await canceled_run(store, ns, queue)
    other = dataclasses.replace(stale.lease, lease_id=uuid7())
    with pytest.raises(LeaseLost):
        await store.run_heartbeat(RunHeartbeatParams(other, LEASE))


@pytest.mark.parametrize("op", OPS)
async def test_fencing__unknown_run_raises_run_not_found(store: Store, ns: str, op: str) -> None:
    with pytest.raises(RunNotFound):
        await OPS[op](store, Lease(ns, uuid7(), uuid7()), uuid7())


@pytest.mark.parametrize("op", OPS)
async def test_fencing__lease_of_another_namespace_raises_run_not_found(
    store: Store, ns: str, queue: str, op: str
) -> None:
    lease, step = await begin_open_step(store, ns, queue)
    foreign = dataclasses.replace(lease, namespace_id=f"{ns}-other")
    before = await snapshot(store, ns, lease.run_id)
    with pytest.raises(RunNotFound):
        await OPS[op](store, foreign, step.step_attempt_id)
    assert await snapshot(store, ns, lease.run_id) == before
