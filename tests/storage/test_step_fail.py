"""step_fail: the attempt is closed FAILED, and the step is retried with the run."""

from __future__ import annotations

import pytest

from storage import StepAlreadyCompleted, StepAttemptNotFound, Store
from storage.ids import uuid7
from storage.records import (
    RunStatus,
    StepBeginParams,
    StepCompleteParams,
    StepFailParams,
    StepStatus,
)
from tests.storage.helpers import (
    FAST_POLICY,
    all_steps,
    claim_eventually,
    failure,
    lease_of,
    snapshot,
    start_run,
)


async def test_step_fail__closes_the_begun_attempt(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    step = await store.step_begin(StepBeginParams(lease_of(claimed), "charge"))
    result = await store.step_fail(
        StepFailParams(lease_of(claimed), failure(), step_attempt_id=step.step_attempt_id)
    )
    assert result.step.step_attempt_id == step.step_attempt_id
    assert (result.step.status, result.step.error) == (StepStatus.FAILED, failure())
    assert result.step.finished_at is not None
    assert result.run.status is RunStatus.PENDING
    assert await all_steps(store, ns, claimed.run.run_id) == [result.step]


async def test_step_fail__without_begin_records_a_failed_attempt(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    result = await store.step_fail(
        StepFailParams(lease_of(claimed), failure(), step_id="quick", config='{"n": 1}')
    )
    step = result.step
    assert (step.step_id, step.status, step.attempt) == ("quick", StepStatus.FAILED, 1)
    assert (step.error, step.config) == (failure(), '{"n": 1}')
    assert await all_steps(store, ns, claimed.run.run_id) == [step]


async def test_step_fail__by_step_id_closes_the_open_attempt(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    step = await store.step_begin(StepBeginParams(lease_of(claimed), "charge"))
    result = await store.step_fail(StepFailParams(lease_of(claimed), failure(), step_id="charge"))
    assert (result.step.step_attempt_id, result.step.status) == (
        step.step_attempt_id,
        StepStatus.FAILED,
    )
    assert await all_steps(store, ns, claimed.run.run_id) == [result.step]


@pytest.mark.parametrize("by", ["step_id", "step_attempt_id"])
async def test_step_fail__completed_step_raises_already_completed_and_changes_nothing(
    store: Store, ns: str, queue: str, by: str
) -> None:
    claimed = await start_run(store, ns, queue)
    done = await store.step_complete(StepCompleteParams(lease_of(claimed), '"ok"', step_id="s"))
    before = await snapshot(store, ns, claimed.run.run_id)
    params = (
        StepFailParams(lease_of(claimed), failure(), step_id="s")
        if by == "step_id"
        else StepFailParams(lease_of(claimed), failure(), step_attempt_id=done.step_attempt_id)
    )
    with pytest.raises(StepAlreadyCompleted) as caught:
        await store.step_fail(params)
    assert (caught.value.step_id, caught.value.step_attempt_id) == ("s", done.step_attempt_id)
    assert await snapshot(store, ns, claimed.run.run_id) == before


async def test_step_fail__unknown_attempt_raises_not_found_and_changes_nothing(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    before = await snapshot(store, ns, claimed.run.run_id)
    with pytest.raises(StepAttemptNotFound):
        await store.step_fail(StepFailParams(lease_of(claimed), failure(), step_attempt_id=uuid7()))
    assert await snapshot(store, ns, claimed.run.run_id) == before


async def test_step_fail__retried_step_gets_the_next_attempt_number(
    store: Store, ns: str, queue: str
) -> None:
    first = await start_run(store, ns, queue, retry_policy=FAST_POLICY)
    failed = await store.step_fail(StepFailParams(lease_of(first), failure(), step_id="charge"))
    second = await claim_eventually(store, ns, queue)
    assert second.steps == [failed.step]
    retry = await store.step_begin(StepBeginParams(lease_of(second), "charge"))
    assert (retry.attempt, retry.status) == (2, StepStatus.RUNNING)
    assert retry.step_attempt_id != failed.step.step_attempt_id
    done = await store.step_complete(
        StepCompleteParams(lease_of(second), '"ok"', step_attempt_id=retry.step_attempt_id)
    )
    assert done.attempt == 2
    assert await all_steps(store, ns, first.run.run_id) == [failed.step, done]


async def test_step_fail__claim_returns_the_history_oldest_first(
    store: Store, ns: str, queue: str
) -> None:
    first = await start_run(store, ns, queue, retry_policy=FAST_POLICY)
    lease = lease_of(first)
    a = await store.step_complete(StepCompleteParams(lease, '"a"', step_id="a"))
    b = await store.step_complete(StepCompleteParams(lease, '"b"', step_id="b"))
    c = await store.step_fail(StepFailParams(lease, failure(), step_id="c"))
    second = await claim_eventually(store, ns, queue)
    assert second.steps == [a, b, c.step]
    assert second.steps == await all_steps(store, ns, first.run.run_id)
