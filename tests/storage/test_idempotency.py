"""Idempotency keys: (namespace_id, idempotency_key) names one run, whatever its status."""

from __future__ import annotations

import asyncio

import pytest

from storage import IdempotencyConflict, Store
from storage.records import RunStatus
from tests.storage.helpers import create_run, get_run, make_create_params
from tests.storage.states import make_run

KEY = "order-42"


async def test_idempotency__same_key_same_workflow_returns_existing_run(
    store: Store, ns: str, queue: str
) -> None:
    first = await store.run_create(make_create_params(ns, queue, idempotency_key=KEY))
    again = await store.run_create(make_create_params(ns, queue, idempotency_key=KEY))
    assert first.existing is False
    assert again.existing is True
    assert again.run == first.run


async def test_idempotency__existing_run_is_returned_unchanged_despite_other_params(
    store: Store, ns: str, queue: str
) -> None:
    first = await create_run(store, ns, queue, idempotency_key=KEY, input='{"n": 1}')
    again = await store.run_create(
        make_create_params(ns, f"{queue}-2", idempotency_key=KEY, input='{"n": 2}', version="v9")
    )
    assert again.existing is True
    assert again.run == first
    assert await get_run(store, ns, first.run_id) == first


async def test_idempotency__same_key_other_workflow_raises_conflict(
    store: Store, ns: str, queue: str
) -> None:
    first = await create_run(store, ns, queue, idempotency_key=KEY, workflow_name="a")
    with pytest.raises(IdempotencyConflict) as caught:
        await store.run_create(
            make_create_params(ns, queue, idempotency_key=KEY, workflow_name="b")
        )
    assert caught.value.idempotency_key == KEY
    assert caught.value.run_id == first.run_id
    assert caught.value.workflow_name == "a"
    assert await get_run(store, ns, first.run_id) == first


async def test_idempotency__same_key_in_another_namespace_creates_a_new_run(
    store: Store, ns: str, queue: str
) -> None:
    first = await create_run(store, ns, queue, idempotency_key=KEY)
    other = await store.run_create(make_create_params(f"{ns}-b", queue, idempotency_key=KEY))
    assert other.existing is False
    assert other.run.run_id != first.run_id
    assert other.run.namespace_id == f"{ns}-b"


async def test_idempotency__without_key_every_create_is_a_new_run(
    store: Store, ns: str, queue: str
) -> None:
    a = await store.run_create(make_create_params(ns, queue))
    b = await store.run_create(make_create_params(ns, queue))
    assert (a.existing, b.existing) == (False, False)
    assert a.run.run_id != b.run.run_id


async def test_idempotency__concurrent_creates_collapse_to_one_run(
    store: Store, ns: str, queue: str
) -> None:
    params = make_create_params(ns, queue, idempotency_key=KEY)
    results = await asyncio.gather(*(store.run_create(params) for _ in range(20)))
    assert len({r.run.run_id for r in results}) == 1
    assert [r.existing for r in results].count(False) == 1


async def test_idempotency__concurrent_creates_of_two_workflows_make_one_run(
    store: Store, ns: str, queue: str
) -> None:
    calls = [
        store.run_create(make_create_params(ns, queue, idempotency_key=KEY, workflow_name=name))
        for name in ["a", "b"] * 5
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    runs = [r.run for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len({r.run_id for r in runs}) == 1
    winner = runs[0].workflow_name
    assert len(runs) == 5 and all(r.workflow_name == winner for r in runs)
    assert len(errors) == 5 and all(isinstance(e, IdempotencyConflict) for e in errors)


@pytest.mark.parametrize(
    "status",
    [
        RunStatus.RUNNING,
        RunStatus.SLEEPING,
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.CANCELED,
    ],
    ids=str.lower,
)
async def test_idempotency__returns_the_run_whatever_its_status(
    store: Store, ns: str, queue: str, status: RunStatus
) -> None:
    run = await make_run(store, ns, status, idempotency_key=KEY)
    assert run.status is status
    again = await store.run_create(make_create_params(ns, queue, idempotency_key=KEY))
    assert again.existing is True
    assert again.run == await get_run(store, ns, run.run_id)
    assert again.run.status is status
