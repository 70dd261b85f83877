"""step_begin and step_complete: attempts, memoization, idempotent completion."""

from __future__ import annotations

import pytest

from storage import StepAttemptNotFound, StepKindMismatch, StepNotRunning, Store
from storage.ids import uuid7
from storage.records import (
    ClaimedRun,
    StepAttempt,
    StepBeginParams,
    StepCompleteParams,
    StepKind,
    StepStatus,
)
from tests.storage.helpers import all_steps, claim_one, expire_lease, lease_of, start_run

CONFIG = '{"timeout": 30}'
CONTEXT = '{"span": "abc"}'


async def begin(store: Store, claimed: ClaimedRun, step_id: str = "charge") -> StepAttempt:
    return await store.step_begin(
        StepBeginParams(lease_of(claimed), step_id, config=CONFIG, context=CONTEXT)
    )


async def complete(
    store: Store,
    claimed: ClaimedRun,
    output: str = '{"ok": true}',
    *,
    step_attempt_id: str | None = None,
    step_id: str | None = None,
) -> StepAttempt:
    return await store.step_complete(
        StepCompleteParams(
            lease_of(claimed), output, step_attempt_id=step_attempt_id, step_id=step_id
        )
    )


async def test_step_begin__opens_a_running_first_attempt(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    step = await begin(store, claimed)
    assert (step.step_id, step.kind, step.status, step.attempt) == (
        "charge",
        StepKind.FUNCTION,
        StepStatus.RUNNING,
        1,
    )
    assert (step.namespace_id, step.workflow_run_id) == (ns, claimed.run.run_id)
    assert (step.config, step.context) == (CONFIG, CONTEXT)
    assert (step.output, step.error, step.finished_at) == (None, None, None)
    assert step.started_at is not None
    assert step.worker_id == claimed.run.worker_id
    assert await all_steps(store, ns, claimed.run.run_id) == [step]


async def test_step_begin__again_returns_the_same_open_attempt(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    first = await begin(store, claimed)
    assert await begin(store, claimed) == first
    assert await all_steps(store, ns, claimed.run.run_id) == [first]


async def test_step_begin__after_complete_returns_the_completed_attempt(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    step = await begin(store, claimed)
    done = await complete(store, claimed, step_attempt_id=step.step_attempt_id)
    assert await begin(store, claimed) == done
    assert await all_steps(store, ns, claimed.run.run_id) == [done]


async def test_step_begin__other_kind_raises_kind_mismatch(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await begin(store, claimed)
    with pytest.raises(StepKindMismatch) as caught:
        await store.step_begin(StepBeginParams(lease_of(claimed), "charge", kind=StepKind.SLEEP))
    assert (caught.value.recorded, caught.value.requested) == (StepKind.FUNCTION, StepKind.SLEEP)


async def test_step_begin__separate_steps_can_be_open_at_once(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    a, b = await begin(store, claimed, "a"), await begin(store, claimed, "b")
    assert a.step_attempt_id != b.step_attempt_id
    done_b = await complete(store, claimed, step_attempt_id=b.step_attempt_id)
    done_a = await complete(store, claimed, step_attempt_id=a.step_attempt_id)
    assert (done_a.status, done_b.status) == (StepStatus.COMPLETED, StepStatus.COMPLETED)


async def test_step_complete__completes_the_running_attempt(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    step = await begin(store, claimed)
    done = await complete(store, claimed, '{"paid": 12}', step_attempt_id=step.step_attempt_id)
    assert done.step_attempt_id == step.step_attempt_id
    assert (done.status, done.output, done.error) == (StepStatus.COMPLETED, '{"paid": 12}', None)
    assert done.finished_at is not None and done.started_at is not None
    assert done.finished_at >= done.started_at
    assert (done.attempt, done.config, done.created_at) == (1, CONFIG, step.created_at)


async def test_step_complete__without_begin_records_a_completed_attempt(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    done = await store.step_complete(
        StepCompleteParams(
            lease_of(claimed), '"x"', step_id="quick", config=CONFIG, context=CONTEXT
        )
    )
    assert (done.step_id, done.kind, done.status, done.attempt) == (
        "quick",
        StepKind.FUNCTION,
        StepStatus.COMPLETED,
        1,
    )
    assert (done.output, done.config, done.context) == ('"x"', CONFIG, CONTEXT)
    assert done.finished_at is not None
    assert await all_steps(store, ns, claimed.run.run_id) == [done]


async def test_step_complete__by_step_id_closes_the_open_attempt(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    step = await begin(store, claimed)
    done = await complete(store, claimed, step_id="charge")
    assert (done.step_attempt_id, done.status) == (step.step_attempt_id, StepStatus.COMPLETED)
    assert await all_steps(store, ns, claimed.run.run_id) == [done]


async def test_step_complete__completed_step_id_returns_the_original_unchanged(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    first = await complete(store, claimed, '"first"', step_id="charge")
    again = await complete(store, claimed, '"second"', step_id="charge")
    assert again == first
    assert await all_steps(store, ns, claimed.run.run_id) == [first]


async def test_step_complete__by_attempt_id_twice_is_idempotent(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    step = await begin(store, claimed)
    first = await complete(store, claimed, '"first"', step_attempt_id=step.step_attempt_id)
    again = await complete(store, claimed, '"second"', step_attempt_id=step.step_attempt_id)
    assert again == first
    assert again.output == '"first"'


async def test_step_complete__payload_is_stored_verbatim(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    text = '{ "z" : 1.50,"a":[ ] , "n": null }'
    done = await complete(store, claimed, text, step_id="verbatim")
    assert done.output == text
    assert (await all_steps(store, ns, claimed.run.run_id))[0].output == text


async def test_step_complete__null_output_is_kept_apart_from_none(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    null = await complete(store, claimed, "null", step_id="null")
    none = await store.step_complete(StepCompleteParams(lease_of(claimed), None, step_id="none"))
    assert (null.output, none.output) == ("null", None)
    assert [s.output for s in await all_steps(store, ns, claimed.run.run_id)] == ["null", None]


@pytest.mark.parametrize("attempt_id", [uuid7(), "not-a-uuid"], ids=["unknown", "malformed"])
async def test_step_complete__missing_attempt_raises_step_attempt_not_found(
    store: Store, ns: str, queue: str, attempt_id: str
) -> None:
    claimed = await start_run(store, ns, queue)
    with pytest.raises(StepAttemptNotFound):
        await complete(store, claimed, step_attempt_id=attempt_id)
    assert await all_steps(store, ns, claimed.run.run_id) == []


async def test_step_complete__attempt_of_another_run_raises_step_attempt_not_found(
    store: Store, ns: str, queue: str
) -> None:
    mine = await start_run(store, ns, queue)
    theirs = await start_run(store, ns, queue)
    other = await begin(store, theirs)
    with pytest.raises(StepAttemptNotFound):
        await complete(store, mine, step_attempt_id=other.step_attempt_id)
    assert (await all_steps(store, ns, theirs.run.run_id)) == [other]


async def test_step_complete__other_kind_raises_kind_mismatch(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await begin(store, claimed)
    with pytest.raises(StepKindMismatch):
        await store.step_complete(
            StepCompleteParams(lease_of(claimed), '"x"', step_id="charge", kind=StepKind.SLEEP)
        )


async def test_step_complete__failed_attempt_raises_step_not_running(
    store: Store, ns: str, queue: str
) -> None:
    first = await start_run(store, ns, queue)
    step = await begin(store, first)
    await expire_lease(store, lease_of(first))
    second = await claim_one(store, ns, queue)
    with pytest.raises(StepNotRunning) as caught:
        await complete(store, second, step_attempt_id=step.step_attempt_id)
    assert caught.value.status is StepStatus.FAILED
    assert [s.status for s in await all_steps(store, ns, first.run.run_id)] == [StepStatus.FAILED]
