"""The workflow registry: registration, workers and workflows listed, pause and resume,
and the claim honouring registered versions and pause (both backends)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage import Store
from storage.errors import WorkflowNotFound
from storage.records import RunSleepParams, RunStatus
from storage.registry import (
    WorkerListParams,
    WorkerRegisterParams,
    WorkerTouchParams,
    WorkflowDefinition,
    WorkflowGetParams,
    WorkflowListParams,
    WorkflowPauseParams,
)
from tests.storage.helpers import claim, create_run, expire_lease, get_run, lease_of, start_run

WINDOW = timedelta(minutes=1)


async def register(
    store: Store, ns: str, queue: str, worker_id: str, *workflows: tuple[str, str]
) -> None:
    await store.worker_register(
        WorkerRegisterParams(
            namespace_id=ns,
            worker_id=worker_id,
            task_queue=queue,
            workflows=tuple(WorkflowDefinition(name, version) for name, version in workflows),
            online_window=WINDOW,
        )
    )


async def pause(store: Store, ns: str, name: str, *, paused: bool = True) -> None:
    await store.workflow_pause(WorkflowPauseParams(ns, name, paused, "deploy", WINDOW))


async def claimed_ids(store: Store, ns: str, queue: str, worker_id: str | None) -> set[str]:
    result = await claim(store, ns, queue, worker_id=worker_id)
    return {c.run.run_id for c in result.claimed}


# --- registration -------------------------------------------------------------------------


async def test_registry__register_is_idempotent_and_replaces_what_the_worker_runs(
    store: Store, ns: str, queue: str
) -> None:
    await register(store, ns, queue, "w1", ("orders", "1"), ("refunds", "1"))
    await register(store, ns, queue, "w1", ("orders", "1"), ("refunds", "1"))
    await register(store, ns, queue, "w1", ("orders", "2"))
    (worker,) = await store.worker_list(WorkerListParams(ns, None, WINDOW))
    assert worker.worker_id == "w1" and worker.task_queue == queue and worker.online
    assert [(w.workflow_name, w.version) for w in worker.workflows] == [("orders", "2")]
    workflows = await store.workflow_list(WorkflowListParams(ns, WINDOW))
    assert [w.workflow_name for w in workflows] == ["orders", "refunds"]
    orders = await store.workflow_get(WorkflowGetParams(ns, "orders", WINDOW))
    # Version 2 is served by the worker online, version 1 no longer: 2 comes first.
    assert [(v.version, v.workers_online) for v in orders.versions] == [("2", 1), ("1", 0)]
    assert orders.workers_online == 1 and not orders.paused


async def test_registry__definition_is_described_by_the_latest_registration(
    store: Store, ns: str, queue: str
) -> None:
    schema = '{"type":"object"}'
    for worker_id, max_concurrency in (("w1", 5), ("w2", 7)):
        await store.worker_register(
            WorkerRegisterParams(
                ns,
                worker_id,
                queue,
                (
                    WorkflowDefinition(
                        "orders",
                        "1",
                        input_schema=schema,
                        triggers='[{"event_name":"order.created","match":null}]',
                        max_concurrency=max_concurrency,
                    ),
                ),
                WINDOW,
            )
        )
    workflow = await store.workflow_get(WorkflowGetParams(ns, "orders", WINDOW))
    (version,) = workflow.versions
    assert (version.input_schema, version.max_concurrency, version.workers_online) == (
        schema,
        7,
        2,
    )
    assert "order.created" in version.triggers


async def test_registry__a_worker_unseen_for_the_window_is_gone_until_touched(
    store: Store, ns: str, queue: str
) -> None:
    await register(store, ns, queue, "w1", ("orders", "1"))
    await asyncio.sleep(0.05)
    short = timedelta(milliseconds=20)
    (worker,) = await store.worker_list(WorkerListParams(ns, queue, short))
    assert not worker.online
    await store.worker_touch(WorkerTouchParams(ns, "w1"))
    (worker,) = await store.worker_list(WorkerListParams(ns, queue, short))
    assert worker.online


async def test_registry__workers_list_counts_active_runs(store: Store, ns: str, queue: str) -> None:
    await register(store, ns, queue, "worker-1", ("wf", "v1"))
    await start_run(store, ns, queue)
    (worker,) = await store.worker_list(WorkerListParams(ns, None, WINDOW))
    assert worker.active_runs == 1


async def test_registry__get_counts_runs_by_status_and_version(
    store: Store, ns: str, queue: str
) -> None:
    await register(store, ns, queue, "w1", ("wf", "v1"))
    await create_run(store, ns, queue, version="v1")
    await create_run(store, ns, queue, version="v1")
    await create_run(store, ns, queue, version="v9")
    workflow = await store.workflow_get(WorkflowGetParams(ns, "wf", WINDOW))
    assert workflow.run_counts == ((RunStatus.PENDING, 3),)
    assert workflow.versions[0].run_counts == ((RunStatus.PENDING, 2),)
    (listed,) = await store.workflow_list(WorkflowListParams(ns, WINDOW))
    assert listed.run_counts == ((RunStatus.PENDING, 3),)


async def test_registry__unknown_workflow_is_not_found(store: Store, ns: str) -> None:
    with pytest.raises(WorkflowNotFound):
        await store.workflow_get(WorkflowGetParams(ns, "nope", WINDOW))
    with pytest.raises(WorkflowNotFound):
        await pause(store, ns, "nope", paused=False)


# --- the claim and versions ---------------------------------------------------------------


async def test_claim__a_registered_worker_takes_only_its_versions(
    store: Store, ns: str, queue: str
) -> None:
    v1 = await create_run(store, ns, queue, version="1")
    v2 = await create_run(store, ns, queue, version="2")
    await register(store, ns, queue, "old", ("wf", "1"))
    await register(store, ns, queue, "new", ("wf", "2"))
    assert await claimed_ids(store, ns, queue, "new") == {v2.run_id}
    assert await claimed_ids(store, ns, queue, "old") == {v1.run_id}


async def test_claim__a_run_with_no_version_goes_to_any_version_of_its_name(
    store: Store, ns: str, queue: str
) -> None:
    run = await create_run(store, ns, queue, version="")
    other = await create_run(store, ns, queue, workflow_name="other", version="")
    await register(store, ns, queue, "w", ("wf", "3"))
    assert await claimed_ids(store, ns, queue, "w") == {run.run_id}
    assert (await get_run(store, ns, other.run_id)).status is RunStatus.PENDING


async def test_claim__an_unregistered_worker_takes_any_version(
    store: Store, ns: str, queue: str
) -> None:
    runs = {(await create_run(store, ns, queue, version=v)).run_id for v in ("1", "2", "")}
    assert await claimed_ids(store, ns, queue, "never-registered") == runs


async def test_claim__an_expired_lease_is_reclaimed_only_by_its_version(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue, version="1")
    await expire_lease(store, lease_of(claimed))
    await register(store, ns, queue, "new", ("wf", "2"))
    await register(store, ns, queue, "old", ("wf", "1"))
    assert await claimed_ids(store, ns, queue, "new") == set()
    assert await claimed_ids(store, ns, queue, "old") == {claimed.run.run_id}


# --- the claim and pause ------------------------------------------------------------------


async def test_claim__a_paused_workflow_is_not_claimed_until_resumed(
    store: Store, ns: str, queue: str
) -> None:
    run = await create_run(store, ns, queue)
    other = await create_run(store, ns, queue, workflow_name="other")
    await pause(store, ns, "wf")
    assert await claimed_ids(store, ns, queue, None) == {other.run_id}
    result = await claim(store, ns, queue, worker_id=None)
    # Nothing due for this claim: the paused run is not "due now" (no busy re-check).
    assert result.next_due_in is None or result.next_due_in > timedelta(0)
    workflow = await store.workflow_get(WorkflowGetParams(ns, "wf", WINDOW))
    assert workflow.paused and workflow.paused_reason == "deploy"
    assert workflow.paused_at is not None
    assert workflow.run_counts == ((RunStatus.PENDING, 1),)
    await pause(store, ns, "wf", paused=False)
    assert await claimed_ids(store, ns, queue, None) == {run.run_id}


async def test_claim__pause_holds_a_run_waking_from_sleep(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await store.run_sleep(
        RunSleepParams(lease_of(claimed), "nap", duration=timedelta(milliseconds=1))
    )
    await pause(store, ns, "wf")
    await asyncio.sleep(0.01)
    assert await claimed_ids(store, ns, queue, None) == set()
    await pause(store, ns, "wf", paused=False)
    assert await claimed_ids(store, ns, queue, None) == {claimed.run.run_id}


async def test_claim__pause_holds_a_run_whose_lease_expired(
    store: Store, ns: str, queue: str
) -> None:
    claimed = await start_run(store, ns, queue)
    await pause(store, ns, "wf")
    await expire_lease(store, lease_of(claimed))
    assert await claimed_ids(store, ns, queue, None) == set()
    await pause(store, ns, "wf", paused=False)
    assert await claimed_ids(store, ns, queue, None) == {claimed.run.run_id}


async def test_registry__pausing_a_name_never_registered_lists_it(
    store: Store, ns: str, queue: str
) -> None:
    await pause(store, ns, "later")
    workflow = await store.workflow_get(WorkflowGetParams(ns, "later", WINDOW))
    assert workflow.paused and workflow.versions == ()
