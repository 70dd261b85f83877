"""Cases where the two backends once disagreed; each now holds on both."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import StepKindMismatch, Store
from storage.records import (
    RunSleepParams,
    RunStatus,
    StepBeginParams,
    StepCompleteParams,
    StepFailParams,
    StepKind,
)
from tests.storage.helpers import (
    FAST_POLICY,
    claim,
    claim_eventually,
    create_run,
    failure,
    get_run,
    lease_of,
    start_run,
    utcnow,
)
from tests.storage.rawsql import Backend, set_deadline


async def test_kind__a_failed_attempt_fixes_the_step_kind(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue, retry_policy=FAST_POLICY)
    await store.step_fail(StepFailParams(lease_of(claimed), failure(), step_id="s"))
    retry = await claim_eventually(store, ns, queue)
    with pytest.raises(StepKindMismatch):
        await store.run_sleep(
            RunSleepParams(lease_of(retry), step_id="s", duration=timedelta(hours=1))
        )
    assert (await get_run(store, ns, retry.run.run_id)).status is RunStatus.RUNNING


async def test_kind__a_completed_sleep_blocks_function_calls(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    past = utcnow() - timedelta(seconds=1)
    await store.run_sleep(RunSleepParams(lease_of(claimed), step_id="nap", wake_up_at=past))
    lease = lease_of(claimed)
    for call in (
        store.step_begin(StepBeginParams(lease, "nap", kind=StepKind.FUNCTION)),
        store.step_complete(StepCompleteParams(lease, output="1", step_id="nap")),
    ):
        with pytest.raises(StepKindMismatch):
            await call


async def test_claim__overdue_runs_do_not_count_against_max_runs(
    backend: Backend, ns: str, queue: str
) -> None:
    store = backend.store
    overdue = [await create_run(store, ns, queue) for _ in range(2)]
    fresh = [await create_run(store, ns, queue) for _ in range(2)]
    for run in overdue:
        await set_deadline(backend, run.run_id, utcnow() - timedelta(seconds=1))
    result = await claim(store, ns, queue, max_runs=2)
    assert sorted(c.run.run_id for c in result.claimed) == sorted(r.run_id for r in fresh)
    for run in overdue:
        assert (await get_run(store, ns, run.run_id)).status is RunStatus.FAILED
