"""run_create and run_get: fields, defaults, delayed starts, lookups."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from storage import RunNotFound, Store
from storage.ids import uuid7
from storage.records import RetryPolicy, RunGetParams, RunStatus
from tests.storage.helpers import (
    HOUR,
    claim,
    create_run,
    get_run,
    make_create_params,
    utcnow,
)

CUSTOM_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1.5),
    backoff_coefficient=1.7,
    maximum_interval=timedelta(seconds=90.25),
    maximum_attempts=0,
)


async def test_create__round_trips_every_field(store: Store, ns: str, queue: str) -> None:
    start_at = utcnow() + HOUR
    deadline_at = (utcnow() + 2 * HOUR).replace(microsecond=123456)
    params = make_create_params(
        ns,
        queue,
        workflow_name="billing.charge",
        version="2024-06-01",
        input='{"amount": 12.5, "currency": "EUR"}',
        idempotency_key="order-17",
        context='{"trace": {"traceparent": "00-abc-def-01"}}',
        deadline_at=deadline_at,
        start_at=start_at,
        retry_policy=CUSTOM_POLICY,
    )
    result = await store.run_create(params)
    run = result.run
    assert result.existing is False
    assert (run.namespace_id, run.task_queue) == (ns, queue)
    assert (run.workflow_name, run.version) == ("billing.charge", "2024-06-01")
    assert run.input == params.input
    assert run.context == params.context
    assert run.idempotency_key == "order-17"
    assert run.deadline_at == deadline_at
    assert run.available_at == start_at
    assert run.retry_policy == CUSTOM_POLICY
    assert await get_run(store, ns, run.run_id) == run


async def test_create__minimal_fields(store: Store, ns: str, queue: str) -> None:
    run = await create_run(store, ns, queue)
    assert run.input is None
    assert run.context is None
    assert run.idempotency_key is None
    assert run.deadline_at is None
    assert await get_run(store, ns, run.run_id) == run


async def test_create__defaults_of_a_new_run(store: Store, ns: str, queue: str) -> None:
    run = await create_run(store, ns, queue)
    assert run.status is RunStatus.PENDING
    assert run.attempt == 1
    assert run.output is None
    assert run.error is None
    assert run.worker_id is None
    assert run.started_at is None
    assert run.finished_at is None
    assert run.wake_up_at is None
    assert run.parent_run_id is None
    assert run.parent_step_attempt_id is None
    assert run.created_at.tzinfo is not None
    assert run.updated_at >= run.created_at


async def test_create__without_start_at_is_available_at_creation(
    store: Store, ns: str, queue: str
) -> None:
    run = await create_run(store, ns, queue)
    assert run.available_at == run.created_at
    assert [c.run.run_id for c in (await claim(store, ns, queue)).claimed] == [run.run_id]


async def test_create__run_id_is_a_uuid7(store: Store, ns: str, queue: str) -> None:
    run = await create_run(store, ns, queue)
    assert uuid.UUID(run.run_id).version == 7
    assert str(uuid.UUID(run.run_id)) == run.run_id


async def test_create__each_run_gets_its_own_id(store: Store, ns: str, queue: str) -> None:
    runs = [await create_run(store, ns, queue) for _ in range(5)]
    assert len({r.run_id for r in runs}) == 5


async def test_create__stores_payloads_verbatim(store: Store, ns: str, queue: str) -> None:
    text = '{ "b" : [1,  2.50], "a": null, "s": "caf\\u00e9 \\u0000 ☃" }'
    run = await create_run(store, ns, queue, input=text, context='{"z": 1,  "a": 2}')
    fetched = await get_run(store, ns, run.run_id)
    assert fetched.input == text
    assert fetched.context == '{"z": 1,  "a": 2}'


async def test_create__json_null_is_not_none(store: Store, ns: str, queue: str) -> None:
    run = await create_run(store, ns, queue, input="null")
    assert (await get_run(store, ns, run.run_id)).input == "null"


async def test_create__start_at_delays_availability(store: Store, ns: str, queue: str) -> None:
    start_at = utcnow() + HOUR
    run = await create_run(store, ns, queue, start_at=start_at)
    assert run.status is RunStatus.PENDING
    assert run.available_at == start_at
    result = await claim(store, ns, queue)
    assert result.claimed == []
    assert result.next_due_in is not None
    assert HOUR - timedelta(minutes=1) < result.next_due_in <= HOUR


async def test_create__start_at_reached_makes_the_run_claimable(
    store: Store, ns: str, queue: str
) -> None:
    run = await create_run(store, ns, queue, start_at=utcnow() - timedelta(seconds=1))
    assert [c.run.run_id for c in (await claim(store, ns, queue)).claimed] == [run.run_id]


async def test_get__unknown_run_raises_run_not_found(store: Store, ns: str) -> None:
    run_id = uuid7()
    with pytest.raises(RunNotFound) as caught:
        await store.run_get(RunGetParams(namespace_id=ns, run_id=run_id))
    assert (caught.value.namespace_id, caught.value.run_id) == (ns, run_id)


async def test_get__run_of_another_namespace_raises_run_not_found(
    store: Store, ns: str, queue: str
) -> None:
    run = await create_run(store, ns, queue)
    with pytest.raises(RunNotFound):
        await store.run_get(RunGetParams(namespace_id=f"{ns}-other", run_id=run.run_id))


async def test_get__malformed_run_id_raises_run_not_found(store: Store, ns: str) -> None:
    with pytest.raises(RunNotFound):
        await store.run_get(RunGetParams(namespace_id=ns, run_id="not-a-uuid"))
