"""run_cancel: any non-terminal run becomes CANCELED at once, its lease void."""

from __future__ import annotations

import pytest

from storage import LeaseLost, RunAlreadyTerminal, RunNotFound, Store
from storage.ids import uuid7
from storage.records import (
    RunCancelParams,
    RunFailParams,
    RunStatus,
    StepBeginParams,
    StepStatus,
)
from storage.rules import cancel_failure
from tests.storage.helpers import (
    FAST_POLICY,
    claim,
    expire_lease,
    failure,
    get_run,
    lease_of,
    snapshot,
    start_run,
)
from tests.storage.states import make_run

ACTIVE = [RunStatus.PENDING, RunStatus.RUNNING, RunStatus.SLEEPING]


@pytest.mark.parametrize("status", ACTIVE, ids=str.lower)
async def test_cancel__active_run_becomes_canceled(
    store: Store, ns: str, queue: str, status: RunStatus
) -> None:
    run = await make_run(store, ns, status, queue=queue)
    canceled = await store.run_cancel(RunCancelParams(ns, run.run_id, "user asked"))
    assert canceled.status is RunStatus.CANCELED
    assert canceled.error == cancel_failure("user asked")
    assert canceled.finished_at is not None
    assert (canceled.run_id, canceled.created_at, canceled.input) == (
        run.run_id,
        run.created_at,
        run.input,
    )
    assert await get_run(store, ns, run.run_id) == canceled
    assert (await claim(store, ns, queue)).claimed == []


@pytest.mark.parametrize("status", ACTIVE, ids=str.lower)
async def test_cancel__open_attempts_are_failed_with_the_reason(
    store: Store, ns: str, queue: str, status: RunStatus
) -> None:
    run = await make_run(store, ns, status, queue=queue)
    await store.run_cancel(RunCancelParams(ns, run.run_id, "user asked"))
    _, steps = await snapshot(store, ns, run.run_id)
    assert all(
        (s.status, s.error, s.finished_at is not None)
        == (StepStatus.FAILED, cancel_failure("user asked"), True)
        for s in steps
    )
    assert len(steps) == (1 if status is RunStatus.SLEEPING else 0)


async def test_cancel__running_run_fails_its_open_function_attempts(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    for step_id in ("a", "b"):
        await store.step_begin(StepBeginParams(lease_of(claimed), step_id))
    await store.run_cancel(RunCancelParams(ns, claimed.run.run_id, ""))
    _, steps = await snapshot(store, ns, claimed.run.run_id)
    assert [(s.step_id, s.status, s.error) for s in steps] == [
        ("a", StepStatus.FAILED, cancel_failure("")),
        ("b", StepStatus.FAILED, cancel_failure("")),
    ]


async def test_cancel__empty_reason_gets_a_default_message(
    store: Store, ns: str, queue: str
) -> None:
    run = await make_run(store, ns, RunStatus.PENDING, queue=queue)
    canceled = await store.run_cancel(RunCancelParams(ns, run.run_id))
    assert canceled.error == cancel_failure("")
    assert canceled.error is not None and canceled.error.message


async def test_cancel__voids_the_lease(store: Store, ns: str, queue: str) -> None:
    claimed = await start_run(store, ns, queue)
    await store.run_cancel(RunCancelParams(ns, claimed.run.run_id, "stop"))
    with pytest.raises(LeaseLost) as caught:
        await store.step_begin(StepBeginParams(lease_of(claimed), "late"))
    assert caught.value.status is RunStatus.CANCELED


async def test_cancel__canceling_again_returns_the_run_unchanged(
    store: Store, ns: str, queue: str
) -> None:
    run = await make_run(store, ns, RunStatus.RUNNING, queue=queue)
    first = await store.run_cancel(RunCancelParams(ns, run.run_id, "first reason"))
    again = await store.run_cancel(RunCancelParams(ns, run.run_id, "second reason"))
    assert again == first
    assert await get_run(store, ns, run.run_id) == first


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED], ids=str.lower)
async def test_cancel__finished_run_raises_already_terminal_and_changes_nothing(
    store: Store, ns: str, queue: str, status: RunStatus
) -> None:
    run = await make_run(store, ns, status, queue=queue)
    before = await snapshot(store, ns, run.run_id)
    with pytest.raises(RunAlreadyTerminal) as caught:
        await store.run_cancel(RunCancelParams(ns, run.run_id, "too late"))
    assert (caught.value.run_id, caught.value.status) == (run.run_id, status)
    assert await snapshot(store, ns, run.run_id) == before


async def test_cancel__unknown_run_raises_run_not_found(store: Store, ns: str) -> None:
    with pytest.raises(RunNotFound):
        await store.run_cancel(RunCancelParams(ns, uuid7(), "x"))


async def test_cancel__run_of_another_namespace_raises_run_not_found(
    store: Store, ns: str, queue: str
) -> None:
    run = await make_run(store, ns, RunStatus.PENDING, queue=queue)
    with pytest.raises(RunNotFound):
        await store.run_cancel(RunCancelParams(f"{ns}-other", run.run_id, "x"))
    assert (await get_run(store, ns, run.run_id)).status is RunStatus.PENDING


async def test_cancel__run_waiting_for_a_retry_is_canceled(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    retrying = await store.run_fail(RunFailParams(lease_of(claimed), failure()))
    assert (retrying.status, retrying.attempt) == (RunStatus.PENDING, 2)
    canceled = await store.run_cancel(RunCancelParams(ns, claimed.run.run_id, "enough"))
    assert canceled.status is RunStatus.CANCELED
    assert canceled.error == cancel_failure("enough")


async def test_cancel__run_with_an_expired_lease_is_never_claimed_again(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue, retry_policy=FAST_POLICY)
    await expire_lease(store, lease_of(claimed))
    canceled = await store.run_cancel(RunCancelParams(ns, claimed.run.run_id, "stop"))
    assert canceled.status is RunStatus.CANCELED
    result = await claim(store, ns, queue)
    assert result.claimed == []
    assert result.next_due_in is None
