"""Namespaces are walls: a key of A learns nothing of B — not its runs, not whether a
run or the namespace itself exists — and a worker key of A never claims B's runs."""

from __future__ import annotations

import asyncio
import uuid

import grpc

from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1.workflow_run_pb2 import WORKFLOW_RUN_STATUS_PENDING
from tests.access.conftest import Secured, bearer
from tests.services.helpers import expect_error, seconds

DENIED = grpc.StatusCode.PERMISSION_DENIED


async def _get(secured: Secured, key: str, namespace: str, run_id: str) -> grpc.aio.AioRpcError:
    try:
        await secured.api.workflow.GetWorkflowRun(
            wf.GetWorkflowRunRequest(namespace_id=namespace, run_id=run_id),
            metadata=secured.as_(key),
        )
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call succeeded")


async def test_isolation__a_refusal_says_nothing_of_what_the_other_namespace_holds(
    secured: Secured,
) -> None:
    existing = await _get(secured, "admin", secured.b, secured.runs[secured.b])
    missing_run = await _get(secured, "admin", secured.b, str(uuid.uuid4()))
    missing_namespace = await _get(secured, "admin", f"{secured.b}-none", str(uuid.uuid4()))
    for error in (existing, missing_run, missing_namespace):
        assert error.code() == DENIED
        assert secured.runs[secured.b] not in (error.details() or "")
    assert existing.details() == missing_run.details()
    assert existing.trailing_metadata() == missing_run.trailing_metadata()


async def test_isolation__an_operator_key_is_told_a_namespace_does_not_exist(
    secured: Secured,
) -> None:
    call = secured.api.workflow.GetWorkflowRun(
        wf.GetWorkflowRunRequest(namespace_id="no-such-namespace", run_id=str(uuid.uuid4())),
        metadata=secured.as_("operator"),
    )
    info = await expect_error(call, grpc.StatusCode.NOT_FOUND, "NAMESPACE_NOT_FOUND")
    assert info.metadata["namespace_id"] == "no-such-namespace"


async def test_isolation__a_worker_key_of_a_never_receives_the_runs_of_b(
    secured: Secured,
) -> None:
    queue = f"q-{uuid.uuid4().hex[:8]}"
    operator = bearer(secured.secrets["operator"])
    started = await secured.api.workflow.StartWorkflow(
        wf.StartWorkflowRequest(namespace_id=secured.b, workflow_name="secret", task_queue=queue),
        metadata=operator,
    )
    worker = secured.as_("worker")
    mine = await secured.api.worker.PollActivity(
        wk.PollActivityRequest(namespace_id=secured.a, task_queue=queue, wait=seconds(0.2)),
        metadata=worker,
    )
    assert list(mine.tasks) == []
    theirs = secured.api.worker.PollActivity(
        wk.PollActivityRequest(namespace_id=secured.b, task_queue=queue, wait=seconds(0.2)),
        metadata=worker,
    )
    await expect_error(theirs, DENIED, "PERMISSION_DENIED")
    stream = secured.api.worker.WorkStream(metadata=worker)
    await stream.write(
        wk.WorkStreamRequest(
            open=wk.WorkStreamOpen(namespace_id=secured.b, task_queue=queue), run_credits=10
        )
    )
    await expect_error(stream.read(), DENIED, "PERMISSION_DENIED")
    # The run is still there for B's own workers: nothing claimed it.
    run = await secured.api.workflow.GetWorkflowRun(
        wf.GetWorkflowRunRequest(namespace_id=secured.b, run_id=started.run.run_id),
        metadata=operator,
    )
    assert run.run.status == WORKFLOW_RUN_STATUS_PENDING


async def test_isolation__a_stream_of_a_refuses_a_call_on_a_lease_of_b(secured: Secured) -> None:
    stream = secured.api.worker.WorkStream(metadata=secured.as_("worker"))
    await stream.write(wk.WorkStreamRequest(open=wk.WorkStreamOpen(namespace_id=secured.a)))
    foreign = wk.RunLease(
        namespace_id=secured.b, run_id=secured.runs[secured.b], lease_id=str(uuid.uuid4())
    )
    call = wk.WorkCall(call_id=1, record_heartbeat=wk.RecordHeartbeatRequest(lease=foreign))
    await stream.write(wk.WorkStreamRequest(calls=[call]))
    await expect_error(asyncio.wait_for(stream.read(), 10), DENIED, "PERMISSION_DENIED")
