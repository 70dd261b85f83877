"""schemathesis against the live /openapi.json: the document describes what the server does.

A real server on SQLite and the gateway on uvicorn, both on loopback ports. For each
operation, schemathesis generates requests from the document (derandomized, so every
run sends the same ones; a bounded number per operation) and checks that no response
is a 5xx and that every status code, content type and body is the one documented.

Besides random IDs (404s, 400s), a share of the cases address seeded runs and steps, so
the full WorkflowRun and StepAttempt bodies are checked too.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any

import grpc
import hypothesis
import pytest
import schemathesis
from google.protobuf import struct_pb2, timestamp_pb2
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.http_rule import bindings_for
from gateway.openapi import build_openapi
from gateway.services import REST_SERVICES
from stepline.v1 import admin_service_pb2 as ad
from stepline.v1 import admin_service_pb2_grpc as admin_grpc
from stepline.v1 import common_pb2, waits_pb2
from stepline.v1 import registry_pb2 as rg
from stepline.v1 import schedule_pb2 as sc
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc as wk_grpc
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc
from stepline.v1.access_pb2 import ROLE_READER
from tests.gateway.conftest import RestApi
from tests.services.helpers import seconds, value

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SEEDED_NAMESPACE = "schemathesis"
SEEDED_SCHEDULE = "seeded"
SEEDED_SCHEDULE_TO_DELETE = "seeded-to-delete"
# Schedules a create may make (random bodies almost never hold a valid cron expression).
CREATE_BODIES = [
    {"scheduleId": "made-by-cron", "workflowName": "w", "cron": "*/5 * * * *"},
    {
        "scheduleId": "made-by-interval",
        "workflowName": "w",
        "interval": "90s",
        "timezone": "Asia/Tokyo",
        "input": [1, "x"],
        "overlap": "SCHEDULE_OVERLAP_ALLOW_ALL",
        "paused": True,
        "priority": 5,
    },
]


@dataclass(frozen=True)
class Seeded:
    """(run_id, step_attempt_id) of each seeded run; a CANCELED run has no step."""

    runs: tuple[tuple[str, str], ...]
    event_id: str = ""
    key_id: str = ""  # an API key of the seeded namespace, for RevokeApiKey


def _operation_ids() -> list[str]:
    bindings = [b for service in REST_SERVICES for b in bindings_for(service)]
    document = build_openapi(bindings, title="stepline", version="test")
    return [op["operationId"] for path in document["paths"].values() for op in path.values()]


class _Seeder:
    """Runs in each terminal status, with as many fields set as the API allows."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.workflow = wf_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
        self.worker = wk_grpc.WorkerServiceStub(channel)  # type: ignore[no-untyped-call]

    async def register(self) -> None:
        """The seeded workflow is registered, so GetWorkflow and friends find it."""
        await self.worker.RegisterWorker(
            rg.RegisterWorkerRequest(
                namespace_id=SEEDED_NAMESPACE,
                worker_id="w1",
                workflows=[
                    rg.WorkflowDefinition(
                        workflow_name="seeded",
                        version="v1",
                        input_schema=value({"type": "object"}).struct_value,
                        triggers=[rg.EventTrigger(event_name="seeded.event")],
                        retry_policy=common_pb2.RetryPolicy(maximum_attempts=3),
                    )
                ],
            )
        )

    async def start(self, queue: str) -> str:
        response = await self.workflow.StartWorkflow(
            wf.StartWorkflowRequest(
                namespace_id=SEEDED_NAMESPACE,
                workflow_name="seeded",
                version="v1",
                task_queue=queue,
                input=value({"n": 1, "tags": ["a", None, True], "big": 2**60}),
                idempotency_key=f"seeded-{queue}",
                context=struct_pb2.Struct(fields={"tenant": value("t1")}),
                deadline_at=timestamp_pb2.Timestamp(seconds=4_000_000_000, nanos=5_000_000),
                retry_policy=common_pb2.RetryPolicy(
                    initial_interval=seconds(1.5), backoff_coefficient=1.5, maximum_attempts=3
                ),
            )
        )
        run_id: str = response.run.run_id
        return run_id

    async def claim(self, queue: str) -> wk.RunLease:
        polled: wk.PollActivityResponse = await self.worker.PollActivity(
            wk.PollActivityRequest(
                namespace_id=SEEDED_NAMESPACE, task_queue=queue, worker_id="w1", wait=seconds(5)
            )
        )
        (task,) = polled.tasks
        return task.lease

    async def completed(self) -> tuple[str, str]:
        run_id = await self.start("completed")
        lease = await self.claim("completed")
        step = await self.worker.CompleteStep(
            wk.CompleteStepRequest(
                lease=lease, step_id="s1", config=value({"timeout": 3}), output=value([1.5, "x"])
            )
        )
        await self.worker.CompleteWorkflow(
            wk.CompleteWorkflowRequest(lease=lease, output=value("ok"))
        )
        return run_id, step.step_attempt.step_attempt_id

    async def failed(self) -> tuple[str, str]:
        run_id = await self.start("failed")
        lease = await self.claim("failed")
        error = common_pb2.Failure(
            type="E", message="m", stack_trace="t", details=value({"d": 1}), non_retryable=True
        )
        step = await self.worker.FailStep(
            wk.FailStepRequest(lease=lease, step_id="s1", error=error)
        )
        return run_id, step.step_attempt.step_attempt_id

    async def canceled(self) -> tuple[str, str]:
        run_id = await self.start("canceled")
        await self.workflow.CancelWorkflowRun(
            wf.CancelWorkflowRunRequest(namespace_id=SEEDED_NAMESPACE, run_id=run_id, reason="r")
        )
        return run_id, run_id  # no step: the run's ID stands in (a 404)

    async def schedules(self) -> None:
        """A schedule with every field set (triggered once, so it has a last run), and one
        for DeleteSchedule to delete."""
        for schedule_id in (SEEDED_SCHEDULE, SEEDED_SCHEDULE_TO_DELETE):
            await self.workflow.CreateSchedule(
                sc.CreateScheduleRequest(
                    namespace_id=SEEDED_NAMESPACE,
                    schedule_id=schedule_id,
                    cron="0 3 * * *",
                    timezone="Europe/Berlin",
                    workflow_name="seeded",
                    version="v1",
                    task_queue="scheduled",
                    input=value({"n": 1}),
                    overlap=sc.SCHEDULE_OVERLAP_BUFFER_ONE,
                    catchup_window=seconds(300),
                    priority=2,
                )
            )
        await self.workflow.TriggerSchedule(
            sc.TriggerScheduleRequest(namespace_id=SEEDED_NAMESPACE, schedule_id=SEEDED_SCHEDULE)
        )

    async def waiting(self, queue: str = "waiting") -> tuple[str, str]:
        """A run WAITING on a signal: signals to it are answered 200."""
        run_id = await self.start(queue)
        lease = await self.claim(queue)
        wait = wk.Wait(step_id="w1", signal=waits_pb2.SignalWait(signal_name="go"))
        parked = await self.worker.RegisterWaits(wk.RegisterWaitsRequest(lease=lease, waits=[wait]))
        return run_id, parked.step_attempts[0].step_attempt_id

    async def event(self) -> str:
        sent = await self.workflow.SendEvent(
            wf.SendEventRequest(
                namespace_id=SEEDED_NAMESPACE,
                event_name="seeded",
                data=struct_pb2.Struct(fields={"n": value(1)}),
                idempotency_key="seeded",
            )
        )
        event_id: str = sent.event.event_id
        return event_id


async def _seed(grpc_address: str) -> Seeded:
    async with grpc.aio.insecure_channel(grpc_address) as channel:
        admin = admin_grpc.AdminServiceStub(channel)  # type: ignore[no-untyped-call]
        with contextlib.suppress(grpc.aio.AioRpcError):  # made by the other backend's run
            await admin.CreateNamespace(ad.CreateNamespaceRequest(namespace_id=SEEDED_NAMESPACE))
        key = await admin.CreateApiKey(
            ad.CreateApiKeyRequest(namespace_id=SEEDED_NAMESPACE, name="seeded", role=ROLE_READER)
        )
        seeder = _Seeder(channel)
        await seeder.register()
        await seeder.schedules()
        runs = (
            await seeder.completed(),
            await seeder.failed(),
            await seeder.canceled(),
            await seeder.waiting(),
        )
        return Seeded(runs, await seeder.event(), key.api_key.key_id)


def _strategy(operation: Any, seeded: Seeded) -> st.SearchStrategy[Any]:
    """Random cases, mixed with cases that name the seeded runs, steps and schedules (for
    a GET with only path parameters, that is one case per seeded run: Hypothesis skips
    repeats), and valid schedules to create."""
    names = {p["name"] for p in operation.definition.raw.get("parameters", [])}
    deletes = operation.definition.raw.get("operationId") == "DeleteSchedule"
    schedule_id = SEEDED_SCHEDULE_TO_DELETE if deletes else SEEDED_SCHEDULE
    pinned = []
    for run_id, step_attempt_id in seeded.runs:
        values = {
            "namespace_id": SEEDED_NAMESPACE,
            "run_id": run_id,
            "step_attempt_id": step_attempt_id,
            "schedule_id": schedule_id,
            "key_id": seeded.key_id,
            "event_id": seeded.event_id,
            "workflow_name": "seeded",
        }
        pinned.append({k: v for k, v in values.items() if k in names})
    strategies = [operation.as_strategy(path_parameters=p) for p in pinned if p]
    if operation.definition.raw.get("operationId") == "CreateSchedule":
        namespace = {"namespace_id": SEEDED_NAMESPACE}
        strategies += [
            operation.as_strategy(path_parameters=namespace, body=b) for b in CREATE_BODIES
        ]
    return st.one_of([*strategies, operation.as_strategy()])


def _run(base_url: str, operation_id: str, seeded: Seeded) -> Counter[int]:
    """Blocking: runs in a thread so that the event loop keeps serving the requests.
    Returns how often each status code was answered."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operation = schema.find_operation_by_id(operation_id)

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=_strategy(operation, seeded))
    def check(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=base_url, timeout=30)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    statuses: Counter[int] = Counter()
    check()
    return statuses


@pytest.fixture(scope="module")
async def seeded(rest_api_sqlite: RestApi) -> Seeded:
    return await _seed(rest_api_sqlite.grpc_address)


@pytest.mark.parametrize("operation_id", _operation_ids())
async def test_operation_conforms_to_the_document(
    operation_id: str, rest_api_sqlite: RestApi, seeded: Seeded
) -> None:
    if operation_id == "SignalWorkflowRun":
        # A run of its own: the cancel operations may have ended the seeded waiting run.
        async with grpc.aio.insecure_channel(rest_api_sqlite.grpc_address) as channel:
            fresh = await _Seeder(channel).waiting(f"waiting-{secrets.token_hex(4)}")
        seeded = Seeded((fresh,), seeded.event_id)
    statuses = await asyncio.to_thread(_run, rest_api_sqlite.base_url, operation_id, seeded)

    # Some cases must have succeeded, or the response bodies were never checked.
    assert statuses[200] > 0, statuses
