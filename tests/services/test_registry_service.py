"""The registry through a real gRPC server: RegisterWorker, ListWorkflows, GetWorkflow,
PauseWorkflow, ResumeWorkflow, ListWorkers; a start's pinned version, its warnings, the
input schema and --require-registered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf import struct_pb2

from stepline.v1 import registry_pb2 as rg
from stepline.v1 import workflow_run_pb2
from tests.services.conftest import BACKENDS, Api, database_url, start_api, stop_api
from tests.services.helpers import expect_error, poll, start, value

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PENDING = workflow_run_pb2.WORKFLOW_RUN_STATUS_PENDING


def struct(obj: dict[str, Any]) -> struct_pb2.Struct:
    return value(obj).struct_value


async def register(api: Api, ns: str, worker_id: str, *workflows: rg.WorkflowDefinition) -> Any:
    request = rg.RegisterWorkerRequest(namespace_id=ns, worker_id=worker_id, workflows=workflows)
    return await api.worker.RegisterWorker(request)


def definition(name: str = "wf", version: str = "1", **fields: Any) -> rg.WorkflowDefinition:
    return rg.WorkflowDefinition(workflow_name=name, version=version, **fields)


async def test_register__lists_the_worker_and_its_workflow(api: Api, ns: str) -> None:
    trigger = rg.EventTrigger(event_name="order.created", match=struct({"tier": "gold"}))
    response = await register(api, ns, "w1", definition("orders", "3", triggers=[trigger]))
    assert response.worker.worker_id == "w1" and response.worker.online
    listed = await api.workflow.ListWorkers(rg.ListWorkersRequest(namespace_id=ns))
    assert [(w.worker_id, w.workflows[0].version) for w in listed.workers] == [("w1", "3")]
    got = await api.workflow.GetWorkflow(
        rg.GetWorkflowRequest(namespace_id=ns, workflow_name="orders")
    )
    workflow = got.workflow
    assert [v.version for v in workflow.versions] == ["3"]
    assert workflow.workers_online == 1 and not workflow.paused
    assert workflow.triggers[0].event_name == "order.created"
    assert workflow.triggers[0].match["tier"] == "gold"
    names = await api.workflow.ListWorkflows(rg.ListWorkflowsRequest(namespace_id=ns))
    assert [w.workflow_name for w in names.workflows] == ["orders"]


async def test_register__refuses_bad_definitions(api: Api, ns: str) -> None:
    await expect_error(register(api, ns, ""), INVALID, "INVALID_ARGUMENT", "worker_id")
    await expect_error(
        register(api, ns, "w", definition("a b")),
        INVALID,
        "INVALID_ARGUMENT",
        "workflows[0].workflow_name",
    )
    await expect_error(
        register(api, ns, "w", definition(), definition(version="2")),
        INVALID,
        "INVALID_ARGUMENT",
        "workflows[1].workflow_name",
    )
    await expect_error(
        register(api, ns, "w", definition(input_schema=struct({"type": "nonsense"}))),
        INVALID,
        "INVALID_ARGUMENT",
        "workflows[0].input_schema",
    )
    bad_fields: list[tuple[str, dict[str, Any]]] = [
        ("priority", {"priority": 6}),
        ("priority", {"priority": -1}),
        ("max_concurrency", {"max_concurrency": -1}),
    ]
    for field, bad in bad_fields:
        await expect_error(
            register(api, ns, "w", definition(**bad)),
            INVALID,
            "INVALID_ARGUMENT",
            f"workflows[0].{field}",
        )
    listed = await api.workflow.ListWorkers(rg.ListWorkersRequest(namespace_id=ns))
    assert list(listed.workers) == []


async def test_get_workflow__unknown_is_not_found(api: Api, ns: str) -> None:
    request = rg.GetWorkflowRequest(namespace_id=ns, workflow_name="nope")
    await expect_error(
        api.workflow.GetWorkflow(request), grpc.StatusCode.NOT_FOUND, "WORKFLOW_NOT_FOUND"
    )


async def test_start__pins_the_newest_registered_version(api: Api, ns: str) -> None:
    await register(api, ns, "old", definition(version="1"))
    await register(api, ns, "new", definition(version="2"))
    response = await start(api, ns)
    assert response.run.version == "2"
    assert list(response.warnings) == []
    explicit = await start(api, ns, version="1")
    assert explicit.run.version == "1"
    tasks = await poll(api, ns, wait=0.5, worker_id="new", max_runs=10)
    assert [t.run.run_id for t in tasks] == [response.run.run_id]


async def test_start__without_a_priority_takes_the_pinned_versions_default(
    api: Api, ns: str
) -> None:
    await register(api, ns, "w", definition(version="1", priority=1))
    await register(api, ns, "w2", definition(name="plain", version="1"))
    assert (await start(api, ns)).run.priority == 1
    assert (await start(api, ns, priority=4)).run.priority == 4
    assert (await start(api, ns, name="plain")).run.priority == 3
    got = await api.workflow.GetWorkflow(rg.GetWorkflowRequest(namespace_id=ns, workflow_name="wf"))
    assert [v.priority for v in got.workflow.versions] == [1]


async def test_get_workflow__shows_the_limits_in_force(api: Api, ns: str) -> None:
    await register(api, ns, "old", definition(version="1", max_concurrency=2))
    await register(api, ns, "new", definition(version="2", max_concurrency_per_key=1))
    await register(api, ns, "old", definition(version="1", max_concurrency=2))  # again
    got = await api.workflow.GetWorkflow(rg.GetWorkflowRequest(namespace_id=ns, workflow_name="wf"))
    assert (got.workflow.max_concurrency, got.workflow.max_concurrency_per_key) == (0, 1)


async def test_start__warns_when_no_worker_ever_registered_the_workflow(api: Api, ns: str) -> None:
    response = await start(api, ns, name="ghost")
    assert response.run.status == PENDING
    assert "no worker ever registered workflow 'ghost'" in response.warnings[0]


async def test_start__input_is_checked_against_the_registered_schema(api: Api, ns: str) -> None:
    schema = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"type": "integer"}}},
        "required": ["items"],
    }
    await register(api, ns, "w", definition(input_schema=struct(schema)))
    await expect_error(
        start(api, ns, input=value({"items": [1, "two"]})),
        INVALID,
        "INVALID_ARGUMENT",
        "input.items[1]",
    )
    await expect_error(start(api, ns, input=value({})), INVALID, "INVALID_ARGUMENT", "input")
    accepted = await start(api, ns, input=value({"items": [1, 2]}))
    assert accepted.run.version == "1"


async def test_pause__holds_runs_until_resumed(api: Api, ns: str) -> None:
    await register(api, ns, "w", definition())
    paused = await api.workflow.PauseWorkflow(
        rg.PauseWorkflowRequest(namespace_id=ns, workflow_name="wf", reason="bad deploy")
    )
    assert paused.workflow.paused and paused.workflow.paused_reason == "bad deploy"
    run = (await start(api, ns)).run
    assert await poll(api, ns, wait=0.3, worker_id="w") == []
    got = await api.workflow.GetWorkflow(rg.GetWorkflowRequest(namespace_id=ns, workflow_name="wf"))
    assert [(c.status, c.count) for c in got.workflow.run_counts] == [(PENDING, 1)]
    # A waiting poll is woken by the resume, long before its wait is up.
    waiting = asyncio.create_task(poll(api, ns, wait=20, worker_id="w"))
    await asyncio.sleep(0.2)
    resumed = await api.workflow.ResumeWorkflow(
        rg.ResumeWorkflowRequest(namespace_id=ns, workflow_name="wf")
    )
    assert not resumed.workflow.paused
    tasks = await asyncio.wait_for(waiting, timeout=5)
    assert [t.run.run_id for t in tasks] == [run.run_id]


@pytest_asyncio.fixture(params=BACKENDS)
async def strict_api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    started = await start_api(
        database_url(request, request.param, "grpc-strict"), require_registered=True
    )
    try:
        yield started
    finally:
        await stop_api(started)


async def test_require_registered__an_unknown_workflow_is_not_found(
    strict_api: Api, ns: str
) -> None:
    info = await expect_error(
        start(strict_api, ns, name="typo"), grpc.StatusCode.NOT_FOUND, "WORKFLOW_NOT_FOUND"
    )
    assert info.metadata["workflow_name"] == "typo"
    await register(strict_api, ns, "w", definition("typo"))
    assert (await start(strict_api, ns, name="typo")).run.version == "1"
