"""The two ways a worker ends an execution with an error: step_fail and run_fail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from storage import Store
from storage.records import Failure, Lease, Run, RunFailParams, StepFailParams


async def fail_by_step(store: Store, lease: Lease, error: Failure) -> Run:
    result = await store.step_fail(StepFailParams(lease, error, step_id="flaky"))
    return result.run


async def fail_by_run(store: Store, lease: Lease, error: Failure) -> Run:
    return await store.run_fail(RunFailParams(lease, error))


FAILERS: dict[str, Callable[[Store, Lease, Failure], Awaitable[Run]]] = {
    "step_fail": fail_by_step,
    "run_fail": fail_by_run,
}
