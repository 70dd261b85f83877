"""step_list and step_get: a run's attempts in (created_at, step_attempt_id) order."""

from __future__ import annotations

from datetime import datetime

import pytest

from storage import RunNotFound, StepAttemptNotFound, Store
from storage.ids import uuid7
from storage.records import (
    Cursor,
    Page,
    StepAttempt,
    StepCompleteParams,
    StepGetParams,
    StepListParams,
)
from tests.storage.helpers import create_run, lease_of, start_run, utcnow
from tests.storage.paging import Fetch, cursor_after, flags, walk_backward, walk_forward
from tests.storage.rawsql import STEPS_TABLE, Backend, set_created_at


def step_key(step: StepAttempt) -> tuple[datetime, str]:
    return step.created_at, step.step_attempt_id


def step_ids(page: Page[StepAttempt]) -> list[str]:
    return [s.step_attempt_id for s in page.items]


def fetcher(store: Store, ns: str, run_id: str) -> Fetch[StepAttempt]:
    async def fetch(limit: int, cursor: Cursor | None) -> Page[StepAttempt]:
        return await store.step_list(StepListParams(ns, run_id, limit=limit, cursor=cursor))

    return fetch


async def run_with_steps(store: Store, ns: str, queue: str, count: int) -> list[StepAttempt]:
    """A claimed run with `count` completed steps; returns them in creation order."""
    lease = lease_of(await start_run(store, ns, queue))
    return [
        await store.step_complete(StepCompleteParams(lease, output=str(i), step_id=f"s{i}"))
        for i in range(count)
    ]


async def test_step_list__returns_attempts_in_created_order(
    store: Store, ns: str, queue: str
) -> None:
    steps = await run_with_steps(store, ns, queue, 5)
    page = await fetcher(store, ns, steps[0].workflow_run_id)(100, None)
    assert page.items == sorted(steps, key=step_key)
    assert [s.step_id for s in page.items] == ["s0", "s1", "s2", "s3", "s4"]
    assert flags(page) == (False, False)


async def test_step_list__run_without_steps_returns_an_empty_page(
    store: Store, ns: str, queue: str
) -> None:
    run = await create_run(store, ns, queue)
    page = await fetcher(store, ns, run.run_id)(10, None)
    assert page.items == []
    assert flags(page) == (False, False)


async def test_step_list__exact_limit_page_has_no_next(store: Store, ns: str, queue: str) -> None:
    steps = await run_with_steps(store, ns, queue, 3)
    page = await fetcher(store, ns, steps[0].workflow_run_id)(3, None)
    assert len(page.items) == 3
    assert flags(page) == (False, False)


async def test_step_list__forward_and_backward_pages_match(
    store: Store, ns: str, queue: str
) -> None:
    steps = await run_with_steps(store, ns, queue, 7)
    fetch = fetcher(store, ns, steps[0].workflow_run_id)
    forward = await walk_forward(fetch, 3, step_key)
    backward = await walk_backward(fetch, 3, step_key, forward[-1])
    expected = [s.step_attempt_id for s in sorted(steps, key=step_key)]
    assert [step_ids(p) for p in forward] == [expected[0:3], expected[3:6], expected[6:]]
    assert [flags(p) for p in forward] == [(False, True), (True, True), (True, False)]
    assert [step_ids(p) for p in backward] == [step_ids(p) for p in forward]
    assert [flags(p) for p in backward] == [flags(p) for p in forward]


async def test_step_list__cursor_after_the_last_attempt_returns_an_empty_page(
    store: Store, ns: str, queue: str
) -> None:
    steps = await run_with_steps(store, ns, queue, 2)
    last = sorted(steps, key=step_key)[-1]
    page = await fetcher(store, ns, last.workflow_run_id)(5, cursor_after(*step_key(last)))
    assert page.items == []
    assert page.has_next is False


async def test_step_list__equal_created_at_is_ordered_by_attempt_id(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    steps = await run_with_steps(store, ns, queue, 5)
    await set_created_at(backend, STEPS_TABLE, [s.step_attempt_id for s in steps], utcnow())
    fetch = fetcher(store, ns, steps[0].workflow_run_id)
    forward = await walk_forward(fetch, 2, step_key)
    backward = await walk_backward(fetch, 2, step_key, forward[-1])
    expected = sorted(s.step_attempt_id for s in steps)
    assert [i for p in forward for i in step_ids(p)] == expected
    assert [step_ids(p) for p in backward] == [step_ids(p) for p in forward]


async def test_step_list__lists_only_the_run(store: Store, ns: str, queue: str) -> None:
    mine = await run_with_steps(store, ns, queue, 2)
    await run_with_steps(store, ns, queue, 2)
    page = await fetcher(store, ns, mine[0].workflow_run_id)(100, None)
    assert step_ids(page) == [s.step_attempt_id for s in mine]


async def test_step_list__unknown_run_raises_run_not_found(store: Store, ns: str) -> None:
    with pytest.raises(RunNotFound):
        await fetcher(store, ns, uuid7())(10, None)


async def test_step_list__run_of_another_namespace_raises_run_not_found(
    store: Store, ns: str, queue: str
) -> None:
    steps = await run_with_steps(store, ns, queue, 1)
    with pytest.raises(RunNotFound):
        await fetcher(store, f"{ns}-other", steps[0].workflow_run_id)(10, None)


async def test_step_get__returns_the_attempt(store: Store, ns: str, queue: str) -> None:
    (step,) = await run_with_steps(store, ns, queue, 1)
    got = await store.step_get(StepGetParams(ns, step.workflow_run_id, step.step_attempt_id))
    assert got == step


@pytest.mark.parametrize("attempt_id", [uuid7(), "not-a-uuid"], ids=["unknown", "malformed"])
async def test_step_get__missing_attempt_raises_step_attempt_not_found(
    store: Store, ns: str, queue: str, attempt_id: str
) -> None:
    (step,) = await run_with_steps(store, ns, queue, 1)
    with pytest.raises(StepAttemptNotFound):
        await store.step_get(StepGetParams(ns, step.workflow_run_id, attempt_id))


async def test_step_get__attempt_of_another_run_raises_step_attempt_not_found(
    store: Store, ns: str, queue: str
) -> None:
    (mine,) = await run_with_steps(store, ns, queue, 1)
    (theirs,) = await run_with_steps(store, ns, queue, 1)
    with pytest.raises(StepAttemptNotFound):
        await store.step_get(StepGetParams(ns, mine.workflow_run_id, theirs.step_attempt_id))


async def test_step_get__unknown_run_raises_run_not_found(
    store: Store, ns: str, queue: str
) -> None:
    (step,) = await run_with_steps(store, ns, queue, 1)
    with pytest.raises(RunNotFound):
        await store.step_get(StepGetParams(ns, uuid7(), step.step_attempt_id))
