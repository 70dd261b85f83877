"""Stale leases and the worker calls they must not get through, for the fencing tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from storage import Store
from storage.ids import uuid7
from storage.records import (
    Lease,
    RunCancelParams,
    RunCompleteParams,
    RunFailParams,
    RunHeartbeatParams,
    RunReleaseParams,
    RunSleepParams,
    StepAttempt,
    StepBeginParams,
    StepCompleteParams,
    StepFailParams,
)
from tests.storage.helpers import HOUR, LEASE, claim_one, expire_lease, failure, lease_of, start_run

OPEN_STEP = "open-step"


@dataclass(frozen=True)
class Stale:
    lease: Lease
    """The lease the worker calls carry."""
    step: StepAttempt
    """OPEN_STEP's attempt, begun under the run's first lease."""


async def begin_open_step(store: Store, ns: str, queue: str) -> tuple[Lease, StepAttempt]:
    lease = lease_of(await start_run(store, ns, queue))
    return lease, await store.step_begin(StepBeginParams(lease, OPEN_STEP))


async def stale_after_reclaim(store: Store, ns: str, queue: str) -> Stale:
    lease, step = await begin_open_step(store, ns, queue)
    await expire_lease(store, lease)
    await claim_one(store, ns, queue, worker_id="new-owner")
    return Stale(lease, step)


async def random_lease(store: Store, ns: str, queue: str) -> Stale:
    lease, step = await begin_open_step(store, ns, queue)
    return Stale(dataclasses.replace(lease, lease_id=uuid7()), step)


async def malformed_lease(store: Store, ns: str, queue: str) -> Stale:
    lease, step = await begin_open_step(store, ns, queue)
    return Stale(dataclasses.replace(lease, lease_id="not-a-lease"), step)


async def expired_lease(store: Store, ns: str, queue: str) -> Stale:
    lease, step = await begin_open_step(store, ns, queue)
    await expire_lease(store, lease)
    return Stale(lease, step)


async def canceled_run(store: Store, ns: str, queue: str) -> Stale:
    lease, step = await begin_open_step(store, ns, queue)
    await store.run_cancel(RunCancelParams(ns, lease.run_id, "stop"))
    return Stale(lease, step)


async def completed_run(store: Store, ns: str, queue: str) -> Stale:
    lease, step = await begin_open_step(store, ns, queue)
    await store.run_complete(RunCompleteParams(lease, output='"done"'))
    return Stale(lease, step)


SCENARIOS: dict[str, Callable[[Store, str, str], Awaitable[Stale]]] = {
    "stale_after_reclaim": stale_after_reclaim,
    "random_lease": random_lease,
    "malformed_lease": malformed_lease,
    "expired_lease": expired_lease,
    "canceled_run": canceled_run,
    "completed_run": completed_run,
}

Op = Callable[[Store, Lease, str], Awaitable[object]]
"""A worker call under `lease`; the str is a step attempt id for the calls that take one."""

OPS: dict[str, Op] = {
    "heartbeat": lambda s, lease, _: s.run_heartbeat(RunHeartbeatParams(lease, LEASE)),
    "step_begin": lambda s, lease, _: s.step_begin(StepBeginParams(lease, "new-step")),
    "step_complete_by_attempt_id": lambda s, lease, attempt_id: s.step_complete(
        StepCompleteParams(lease, output='"late"', step_attempt_id=attempt_id)
    ),
    "step_complete_by_step_id": lambda s, lease, _: s.step_complete(
        StepCompleteParams(lease, output='"late"', step_id=OPEN_STEP)
    ),
    "step_fail_by_attempt_id": lambda s, lease, attempt_id: s.step_fail(
        StepFailParams(lease, failure(), step_attempt_id=attempt_id)
    ),
    "step_fail_by_step_id": lambda s, lease, _: s.step_fail(
        StepFailParams(lease, failure(), step_id="new-step")
    ),
    "run_sleep_until": lambda s, lease, _: s.run_sleep(RunSleepParams(lease, "nap", duration=HOUR)),
    "run_complete": lambda s, lease, _: s.run_complete(RunCompleteParams(lease, '"late"')),
    "run_fail": lambda s, lease, _: s.run_fail(RunFailParams(lease, failure())),
    "run_fail_non_retryable": lambda s, lease, _: s.run_fail(
        RunFailParams(lease, failure(non_retryable=True))
    ),
    "run_release": lambda s, lease, _: s.run_release(RunReleaseParams(lease, "shutting down")),
}

ENDING_OPS = {
    "step_fail_by_attempt_id",
    "step_fail_by_step_id",
    "run_sleep_until",
    "run_complete",
    "run_fail",
    "run_fail_non_retryable",
}
"""The OPS that end an execution: under the lease whose execution already ended, each is
compared with what that ending recorded (tests/storage/test_repeats.py), not refused as
a late call."""
