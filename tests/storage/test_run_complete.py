"""run_complete: the terminal result of a run."""

from __future__ import annotations

import pytest

from storage import LeaseLost, Store
from storage.records import (
    RunCompleteParams,
    RunHeartbeatParams,
    RunStatus,
    StepCompleteParams,
    StepStatus,
)
from tests.storage.helpers import LEASE, all_steps, claim, get_run, lease_of, start_run


async def test_run_complete__records_output_and_finishes(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    run = await store.run_complete(RunCompleteParams(lease_of(claimed), '{"total": 3}'))
    assert (run.status, run.output, run.error) == (RunStatus.COMPLETED, '{"total": 3}', None)
    assert run.finished_at is not None
    assert run.finished_at >= claimed.run.updated_at
    assert (run.attempt, run.started_at) == (1, claimed.run.started_at)
    assert await get_run(store, ns, run.run_id) == run


async def test_run_complete__output_is_stored_verbatim(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    text = '[ 1,2 ,  {"x" : "\\u00e9"} ]'
    run = await store.run_complete(RunCompleteParams(lease_of(claimed), text))
    assert (await get_run(store, ns, run.run_id)).output == text


async def test_run_complete__without_output(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    run = await store.run_complete(RunCompleteParams(lease_of(claimed), None))
    assert (run.status, run.output) == (RunStatus.COMPLETED, None)


async def test_run_complete__releases_the_lease(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    await store.run_complete(RunCompleteParams(lease_of(claimed), None))
    with pytest.raises(LeaseLost) as caught:
        await store.run_heartbeat(RunHeartbeatParams(lease_of(claimed), LEASE))
    assert caught.value.status is RunStatus.COMPLETED
    result = await claim(store, ns, queue)
    assert (result.claimed, result.next_due_in) == ([], None)


async def test_run_complete__keeps_completed_steps(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    step = await store.step_complete(StepCompleteParams(lease_of(claimed), '"a"', step_id="a"))
    await store.run_complete(RunCompleteParams(lease_of(claimed), None))
    assert await all_steps(store, ns, claimed.run.run_id) == [step]
    assert step.status is StepStatus.COMPLETED
