"""Runs driven to a given status through the Store API, for tests that need one."""

from __future__ import annotations

import secrets
from typing import Unpack

from storage import Store
from storage.records import (
    Run,
    RunCancelParams,
    RunCompleteParams,
    RunFailParams,
    RunSleepParams,
    RunStatus,
    RunWaitParams,
    StepKind,
    WaitSpec,
)
from tests.storage.helpers import (
    HOUR,
    CreateOptions,
    claim,
    create_run,
    failure,
    lease_of,
)

CANCEL_REASON = "no longer needed"


async def make_run(
    store: Store,
    ns: str,
    status: RunStatus,
    queue: str | None = None,
    **options: Unpack[CreateOptions],
) -> Run:
    """A new run in `status`. Without `queue` it gets a queue of its own; with one, the
    queue must hold no other due run when the status needs a claim."""
    queue = queue or f"queue-{secrets.token_hex(6)}"
    run = await create_run(store, ns, queue, **options)
    if status is RunStatus.PENDING:
        return run
    if status is RunStatus.CANCELED:
        return await store.run_cancel(RunCancelParams(ns, run.run_id, CANCEL_REASON))
    result = await claim(store, ns, queue, max_runs=1)
    (claimed,) = result.claimed
    assert claimed.run.run_id == run.run_id
    lease = lease_of(claimed)
    if status is RunStatus.RUNNING:
        return claimed.run
    if status is RunStatus.SLEEPING:
        return (await store.run_sleep(RunSleepParams(lease, "nap", duration=HOUR))).run
    if status is RunStatus.WAITING:
        wait = WaitSpec("approval", StepKind.SIGNAL, name="approved")
        return (await store.run_wait(RunWaitParams(lease, (wait,)))).run
    if status is RunStatus.COMPLETED:
        return await store.run_complete(RunCompleteParams(lease, output='"done"'))
    assert status is RunStatus.FAILED
    return await store.run_fail(RunFailParams(lease, failure("Fatal", non_retryable=True)))
