"""Builders and checks shared by the conformance suite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TypedDict, Unpack

from storage import Store
from storage.records import (
    ClaimedRun,
    Failure,
    Json,
    Lease,
    RetryPolicy,
    Run,
    RunClaimParams,
    RunClaimResult,
    RunCreateParams,
    RunGetParams,
    RunHeartbeatParams,
    RunStatus,
    StepAttempt,
    StepKind,
    StepListParams,
    StepStatus,
)

DEFAULT_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=100),
    maximum_attempts=3,
)
"""A resolved policy as the services layer would pass it."""

FAST_POLICY = RetryPolicy(
    initial_interval=timedelta(milliseconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=1),
    maximum_attempts=0,
)
"""Unlimited retries a few milliseconds apart, so retry tests stay fast."""

LEASE = timedelta(minutes=5)
WORKER = "worker-1"
HOUR = timedelta(hours=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


class CreateOptions(TypedDict, total=False):
    workflow_name: str
    version: str
    input: Json | None
    idempotency_key: str | None
    context: Json | None
    deadline_at: datetime | None
    start_at: datetime | None
    retry_policy: RetryPolicy
    priority: int
    concurrency_key: str | None


def make_create_params(ns: str, queue: str, **options: Unpack[CreateOptions]) -> RunCreateParams:
    return RunCreateParams(
        namespace_id=ns,
        task_queue=queue,
        workflow_name=options.get("workflow_name", "wf"),
        version=options.get("version", "v1"),
        input=options.get("input"),
        idempotency_key=options.get("idempotency_key"),
        context=options.get("context"),
        deadline_at=options.get("deadline_at"),
        start_at=options.get("start_at"),
        retry_policy=options.get("retry_policy", DEFAULT_POLICY),
        priority=options.get("priority", 3),
        concurrency_key=options.get("concurrency_key"),
    )


async def create_run(store: Store, ns: str, queue: str, **options: Unpack[CreateOptions]) -> Run:
    result = await store.run_create(make_create_params(ns, queue, **options))
    assert not result.existing
    return result.run


def failure(
    type: str = "Boom", *, non_retryable: bool = False, details: Json | None = None
) -> Failure:
    return Failure(
        type=type,
        message=f"{type} happened",
        stack_trace="Traceback: line 1",
        details=details,
        non_retryable=non_retryable,
    )


# --- claims -----------------------------------------------------------------------------


async def claim(
    store: Store,
    ns: str,
    queue: str,
    *,
    max_runs: int = 10,
    lease: timedelta = LEASE,
    worker_id: str | None = WORKER,
    workflow_names: tuple[str, ...] = (),
) -> RunClaimResult:
    return await store.run_claim(
        RunClaimParams(
            namespace_id=ns,
            task_queue=queue,
            worker_id=worker_id,
            workflow_names=workflow_names,
            max_runs=max_runs,
            lease_duration=lease,
        )
    )


async def claim_one(
    store: Store,
    ns: str,
    queue: str,
    *,
    lease: timedelta = LEASE,
    worker_id: str | None = WORKER,
) -> ClaimedRun:
    """Claim the queue's one due run (asserting there is exactly one)."""
    result = await claim(store, ns, queue, lease=lease, worker_id=worker_id)
    assert len(result.claimed) == 1, result
    return result.claimed[0]


async def claim_eventually(
    store: Store, ns: str, queue: str, *, within: float = 5.0, worker_id: str | None = WORKER
) -> ClaimedRun:
    """Claim the queue's one run as soon as it becomes due (a retry, a wake-up)."""
    async with asyncio.timeout(within):
        while True:
            result = await claim(store, ns, queue, worker_id=worker_id)
            if result.claimed:
                assert len(result.claimed) == 1, result
                return result.claimed[0]
            await asyncio.sleep(0.005)


async def start_run(
    store: Store, ns: str, queue: str, **options: Unpack[CreateOptions]
) -> ClaimedRun:
    """Create a run in the queue and claim it."""
    run = await create_run(store, ns, queue, **options)
    claimed = await claim_one(store, ns, queue)
    assert claimed.run.run_id == run.run_id
    return claimed


def lease_of(claimed: ClaimedRun) -> Lease:
    return Lease(
        namespace_id=claimed.run.namespace_id,
        run_id=claimed.run.run_id,
        lease_id=claimed.lease_id,
        worker_id=claimed.run.worker_id,
    )


async def wait_until(moment: datetime) -> None:
    """Sleep until `moment` (a time the store returned) has passed."""
    delay = (moment - utcnow()).total_seconds()
    await asyncio.sleep(max(delay, 0) + 0.01)


async def expire_lease(store: Store, lease: Lease) -> datetime:
    """Shorten the lease to 1 ms by a heartbeat, wait it out, return its expiry."""
    beat = await store.run_heartbeat(RunHeartbeatParams(lease, timedelta(milliseconds=1)))
    assert beat.lease_expires_at is not None
    await wait_until(beat.lease_expires_at)
    return beat.lease_expires_at


# --- reads and checks -------------------------------------------------------------------


async def get_run(store: Store, ns: str, run_id: str) -> Run:
    return await store.run_get(RunGetParams(namespace_id=ns, run_id=run_id))


async def all_steps(store: Store, ns: str, run_id: str) -> list[StepAttempt]:
    """Every step attempt of the run, oldest first (one big page)."""
    page = await store.step_list(StepListParams(namespace_id=ns, run_id=run_id, limit=1000))
    assert not page.has_next
    return page.items


async def snapshot(store: Store, ns: str, run_id: str) -> tuple[Run, list[StepAttempt]]:
    return await get_run(store, ns, run_id), await all_steps(store, ns, run_id)


async def assert_invariant(store: Store, ns: str, run_id: str) -> None:
    """Only a RUNNING run has RUNNING attempts, except the one SLEEP attempt of a
    SLEEPING run; a step_id completes at most once and has at most one open attempt."""
    run, steps = await snapshot(store, ns, run_id)
    open_steps = [s for s in steps if s.status is StepStatus.RUNNING]
    if run.status is RunStatus.SLEEPING:
        assert [s.kind for s in open_steps] == [StepKind.SLEEP], steps
    elif run.status is not RunStatus.RUNNING:
        assert open_steps == [], (run.status, open_steps)
    completed = [s.step_id for s in steps if s.status is StepStatus.COMPLETED]
    assert len(completed) == len(set(completed)), steps
    opened = [s.step_id for s in open_steps]
    assert len(opened) == len(set(opened)), steps
