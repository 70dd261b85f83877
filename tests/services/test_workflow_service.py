"""WorkflowService through a real server: every RPC and its error reasons."""

from __future__ import annotations

import uuid

import grpc
from google.protobuf import struct_pb2, timestamp_pb2

from stepline.v1 import common_pb2
from stepline.v1 import step_attempt_pb2 as st
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr
from stepline.v1 import workflow_service_pb2 as wf
from tests.services.conftest import Api
from tests.services.helpers import (
    claim,
    expect_error,
    get_run,
    seconds,
    start,
    steps_of,
    value,
)
from tests.support import namespaces

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def test_start__returns_a_pending_run_with_every_field(api: Api, ns: str) -> None:
    deadline = timestamp_pb2.Timestamp(seconds=4_000_000_000)
    start_at = timestamp_pb2.Timestamp(seconds=3_000_000_000)
    context = struct_pb2.Struct()
    context.update({"tenant": "acme"})
    response = await start(
        api,
        ns,
        "order.fulfil",
        version="7",
        task_queue="orders",
        input=value({"id": 1, "items": ["a", "b"]}),
        idempotency_key="order-1",
        context=context,
        deadline_at=deadline,
        start_at=start_at,
        retry_policy=common_pb2.RetryPolicy(initial_interval=seconds(2), maximum_attempts=3),
    )
    run = response.run
    assert not response.existing
    assert uuid.UUID(run.run_id).version == 7
    assert (run.namespace_id, run.workflow_name, run.version) == (ns, "order.fulfil", "7")
    assert run.status == wr.WORKFLOW_RUN_STATUS_PENDING
    assert run.task_queue == "orders"
    assert run.input == value({"id": 1, "items": ["a", "b"]})
    assert not run.HasField("output")
    assert run.context.fields["tenant"].string_value == "acme"
    assert run.idempotency_key == "order-1"
    assert run.deadline_at == deadline
    assert run.available_at == start_at
    assert run.attempt == 1
    policy = run.retry_policy
    assert policy.initial_interval.ToTimedelta().total_seconds() == 2
    assert policy.backoff_coefficient == 2.0
    assert policy.maximum_interval.ToTimedelta().total_seconds() == 200
    assert policy.maximum_attempts == 3
    assert run.HasField("created_at") and run.HasField("updated_at")
    assert not run.HasField("started_at") and not run.HasField("finished_at")


async def test_start__fills_defaults(api: Api, ns: str) -> None:
    run = (await start(api, "", "wf-defaults")).run
    assert run.namespace_id == "default"
    assert run.task_queue == "default"
    assert run.retry_policy.maximum_attempts == 5
    assert run.retry_policy.initial_interval.seconds == 1
    assert not run.HasField("input")


async def test_start__same_idempotency_key_returns_the_first_run(api: Api, ns: str) -> None:
    first = await start(api, ns, idempotency_key="k")
    second = await start(api, ns, idempotency_key="k", input=value("ignored"))
    assert second.existing
    assert second.run.run_id == first.run.run_id
    assert not second.run.HasField("input")


async def test_start__idempotency_key_of_another_workflow_is_already_exists(
    api: Api, ns: str
) -> None:
    first = await start(api, ns, "one", idempotency_key="k")
    info = await expect_error(
        start(api, ns, "two", idempotency_key="k"),
        grpc.StatusCode.ALREADY_EXISTS,
        "IDEMPOTENCY_CONFLICT",
    )
    assert info.metadata["run_id"] == first.run.run_id


async def test_start__stores_the_callers_trace_context(api: Api, ns: str) -> None:
    context = struct_pb2.Struct()
    context.update({"mine": 1})
    response = await api.workflow.StartWorkflow(
        wf.StartWorkflowRequest(namespace_id=ns, workflow_name="wf", context=context),
        metadata=[("traceparent", TRACEPARENT), ("tracestate", "vendor=1")],
    )
    stored = response.run.context
    assert stored.fields["mine"].number_value == 1
    trace = stored.fields["trace"].struct_value.fields
    assert trace["traceparent"].string_value == TRACEPARENT
    assert trace["tracestate"].string_value == "vendor=1"


async def test_start__ignores_a_malformed_traceparent(api: Api, ns: str) -> None:
    response = await api.workflow.StartWorkflow(
        wf.StartWorkflowRequest(namespace_id=ns, workflow_name="wf"),
        metadata=[("traceparent", "00-not-a-trace-01")],
    )
    assert "trace" not in response.run.context.fields


async def test_get__returns_the_run(api: Api, ns: str) -> None:
    started = (await start(api, ns)).run
    assert await get_run(api, ns, started.run_id) == started


async def test_get__unknown_run_is_not_found(api: Api, ns: str) -> None:
    info = await expect_error(get_run(api, ns, str(uuid.uuid4())), NOT_FOUND, "RUN_NOT_FOUND")
    assert info.metadata["namespace_id"] == ns


async def test_get__run_of_another_namespace_is_not_found(api: Api, ns: str) -> None:
    started = (await start(api, ns)).run
    other = await namespaces.new_namespace("other")
    await expect_error(get_run(api, other, started.run_id), NOT_FOUND, "RUN_NOT_FOUND")


async def test_get__unknown_namespace_is_not_found(api: Api, ns: str) -> None:
    started = (await start(api, ns)).run
    info = await expect_error(
        get_run(api, f"{ns}-typo", started.run_id), NOT_FOUND, "NAMESPACE_NOT_FOUND"
    )
    assert info.metadata["namespace_id"] == f"{ns}-typo"


async def test_get__malformed_run_id_is_invalid(api: Api, ns: str) -> None:
    await expect_error(get_run(api, ns, "run-1"), INVALID, "INVALID_ARGUMENT", field="run_id")


async def _list(api: Api, ns: str, **fields: object) -> wf.ListWorkflowRunsResponse:
    request = wf.ListWorkflowRunsRequest(namespace_id=ns, **fields)  # type: ignore[arg-type]
    response: wf.ListWorkflowRunsResponse = await api.workflow.ListWorkflowRuns(request)
    return response


async def test_list__pages_forward_and_back_with_tokens(api: Api, ns: str) -> None:
    ids = [(await start(api, ns)).run.run_id for _ in range(5)]
    first = await _list(api, ns, page_size=2)
    assert [r.run_id for r in first.workflow_runs] == ids[:2]
    assert first.has_more and first.next_page_token and not first.prev_page_token
    second = await _list(api, ns, page_size=2, page_token=first.next_page_token)
    assert [r.run_id for r in second.workflow_runs] == ids[2:4]
    third = await _list(api, ns, page_size=2, page_token=second.next_page_token)
    assert [r.run_id for r in third.workflow_runs] == ids[4:]
    assert not third.has_more and not third.next_page_token
    back = await _list(api, ns, page_size=2, page_token=third.prev_page_token)
    assert [r.run_id for r in back.workflow_runs] == ids[2:4]
    assert back.next_page_token == second.next_page_token


async def test_list__filters_by_status_workflow_and_queue(api: Api, ns: str) -> None:
    keep = (await start(api, ns, "a", task_queue="q1")).run
    await start(api, ns, "b", task_queue="q1")
    await start(api, ns, "a", task_queue="q2")
    canceled = (await start(api, ns, "a", task_queue="q1")).run
    await api.workflow.CancelWorkflowRun(
        wf.CancelWorkflowRunRequest(namespace_id=ns, run_id=canceled.run_id)
    )
    found = await _list(
        api,
        ns,
        workflow_name="a",
        task_queue="q1",
        statuses=[wr.WORKFLOW_RUN_STATUS_PENDING],
    )
    assert [r.run_id for r in found.workflow_runs] == [keep.run_id]
    both = await _list(
        api,
        ns,
        statuses=[wr.WORKFLOW_RUN_STATUS_PENDING, wr.WORKFLOW_RUN_STATUS_CANCELED],
        workflow_name="a",
        task_queue="q1",
    )
    assert [r.run_id for r in both.workflow_runs] == [keep.run_id, canceled.run_id]


async def test_list__filters_by_creation_time(api: Api, ns: str) -> None:
    first = (await start(api, ns)).run
    second = (await start(api, ns)).run
    after = await _list(api, ns, created_after=second.created_at)
    assert [r.run_id for r in after.workflow_runs] == [second.run_id]
    before = await _list(api, ns, created_before=second.created_at)
    assert [r.run_id for r in before.workflow_runs] == [first.run_id]


async def test_list__empty_namespace_has_no_tokens(api: Api, ns: str) -> None:
    empty = await _list(api, ns)
    assert not empty.workflow_runs
    assert not empty.next_page_token and not empty.prev_page_token and not empty.has_more


async def test_list__tampered_token_is_invalid(api: Api, ns: str) -> None:
    for _ in range(3):
        await start(api, ns)
    token = (await _list(api, ns, page_size=1)).next_page_token
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (flipped, token[:10], "not-a-token!", token + "x"):
        await expect_error(
            _list(api, ns, page_size=1, page_token=bad),
            INVALID,
            "INVALID_PAGE_TOKEN",
            field="page_token",
        )


async def test_list__token_of_other_filters_is_invalid(api: Api, ns: str) -> None:
    for _ in range(3):
        await start(api, ns, "a")
    token = (await _list(api, ns, page_size=1)).next_page_token
    await expect_error(
        _list(api, ns, page_size=1, page_token=token, workflow_name="a"),
        INVALID,
        "INVALID_PAGE_TOKEN",
    )
    await expect_error(
        _list(api, await namespaces.new_namespace("x"), page_size=1, page_token=token),
        INVALID,
        "INVALID_PAGE_TOKEN",
    )


async def test_list__page_size_out_of_range_is_invalid(api: Api, ns: str) -> None:
    for size in (-1, 1001):
        await expect_error(
            _list(api, ns, page_size=size), INVALID, "INVALID_ARGUMENT", field="page_size"
        )


async def test_list__unspecified_status_filter_is_invalid(api: Api, ns: str) -> None:
    await expect_error(
        _list(api, ns, statuses=[wr.WORKFLOW_RUN_STATUS_UNSPECIFIED]),
        INVALID,
        "INVALID_ARGUMENT",
        field="statuses",
    )


async def _cancel(api: Api, ns: str, run_id: str, reason: str = "") -> wr.WorkflowRun:
    response = await api.workflow.CancelWorkflowRun(
        wf.CancelWorkflowRunRequest(namespace_id=ns, run_id=run_id, reason=reason)
    )
    run: wr.WorkflowRun = response.run
    return run


async def test_cancel__pending_run(api: Api, ns: str) -> None:
    run = (await start(api, ns)).run
    canceled = await _cancel(api, ns, run.run_id, "no longer needed")
    assert canceled.status == wr.WORKFLOW_RUN_STATUS_CANCELED
    assert canceled.error.type == "CANCELED"
    assert canceled.error.message == "no longer needed"
    assert canceled.HasField("finished_at") and not canceled.HasField("available_at")


async def test_cancel__running_run_voids_its_lease(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    await _cancel(api, ns, task.run.run_id)
    heartbeat = await api.worker.RecordHeartbeat(wk.RecordHeartbeatRequest(lease=task.lease))
    assert heartbeat.cancel_requested
    await expect_error(
        api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=task.lease)),
        grpc.StatusCode.FAILED_PRECONDITION,
        "LEASE_LOST",
    )


async def test_cancel__canceled_run_is_returned_unchanged(api: Api, ns: str) -> None:
    run = (await start(api, ns)).run
    first = await _cancel(api, ns, run.run_id)
    assert await _cancel(api, ns, run.run_id) == first


async def test_cancel__completed_run_is_failed_precondition(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    await api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=task.lease))
    info = await expect_error(
        _cancel(api, ns, task.run.run_id),
        grpc.StatusCode.FAILED_PRECONDITION,
        "RUN_ALREADY_TERMINAL",
    )
    assert info.metadata["run_status"] == "COMPLETED"


async def test_cancel__unknown_run_is_not_found(api: Api, ns: str) -> None:
    await expect_error(_cancel(api, ns, str(uuid.uuid4())), NOT_FOUND, "RUN_NOT_FOUND")


async def test_steps__list_and_get(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    for name in ("a", "b", "c"):
        await api.worker.CompleteStep(
            wk.CompleteStepRequest(lease=task.lease, step_id=name, output=value(name))
        )
    steps = await steps_of(api, ns, task.run.run_id)
    assert [s.step_id for s in steps] == ["a", "b", "c"]
    assert all(s.status == st.STEP_ATTEMPT_STATUS_COMPLETED for s in steps)
    page = await api.workflow.ListStepAttempts(
        wf.ListStepAttemptsRequest(namespace_id=ns, run_id=task.run.run_id, page_size=2)
    )
    assert [s.step_id for s in page.step_attempts] == ["a", "b"] and page.has_more
    rest = await api.workflow.ListStepAttempts(
        wf.ListStepAttemptsRequest(
            namespace_id=ns, run_id=task.run.run_id, page_size=2, page_token=page.next_page_token
        )
    )
    assert [s.step_id for s in rest.step_attempts] == ["c"] and not rest.has_more
    got = await api.workflow.GetStepAttempt(
        wf.GetStepAttemptRequest(
            namespace_id=ns, run_id=task.run.run_id, step_attempt_id=steps[1].step_attempt_id
        )
    )
    assert got.step_attempt == steps[1]


async def test_steps__unknown_attempt_and_run_are_not_found(api: Api, ns: str) -> None:
    run = (await start(api, ns)).run
    await expect_error(
        api.workflow.GetStepAttempt(
            wf.GetStepAttemptRequest(
                namespace_id=ns, run_id=run.run_id, step_attempt_id=str(uuid.uuid4())
            )
        ),
        NOT_FOUND,
        "STEP_ATTEMPT_NOT_FOUND",
    )
    await expect_error(
        api.workflow.ListStepAttempts(
            wf.ListStepAttemptsRequest(namespace_id=ns, run_id=str(uuid.uuid4()))
        ),
        NOT_FOUND,
        "RUN_NOT_FOUND",
    )
