"""ReleaseRun through a real server: a worker hands a claimed run back at once."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from google.protobuf import timestamp_pb2

from stepline.v1 import step_attempt_pb2 as st
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr
from tests.services.conftest import Api
from tests.services.helpers import altered, claim, expect_error, get_run, poll, steps_of

FAILED = grpc.StatusCode.FAILED_PRECONDITION
INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def release(api: Api, lease: wk.RunLease, reason: str = "") -> wr.WorkflowRun:
    request = wk.ReleaseRunRequest(lease=lease, reason=reason)
    response: wk.ReleaseRunResponse = await api.worker.ReleaseRun(request)
    return response.run


async def test_release__run_is_pending_and_due_at_once(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    run = await release(api, altered(task.lease, worker_id="w-1"), "worker shutdown")
    assert run.status == wr.WORKFLOW_RUN_STATUS_PENDING
    assert run.worker_id == "" and run.attempt == 1
    assert run.available_at == run.updated_at
    assert not run.HasField("error") and not run.HasField("finished_at")
    assert await get_run(api, ns, task.run.run_id) == run


async def test_release__open_step_is_failed_as_released_with_the_reason(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    await api.worker.BeginStep(wk.BeginStepRequest(lease=task.lease, step_id="charge"))
    await release(api, task.lease, "worker shutdown")
    [step] = await steps_of(api, ns, task.run.run_id)
    assert step.status == st.STEP_ATTEMPT_STATUS_FAILED
    assert (step.error.type, step.error.message) == ("RELEASED", "worker shutdown")
    assert step.error.non_retryable is False


async def test_release__next_poll_claims_the_run_under_a_new_lease(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    await release(api, task.lease)
    again = await poll(api, ns, wait=0)
    assert [t.run.run_id for t in again] == [task.run.run_id]
    assert again[0].lease.lease_id != task.lease.lease_id and again[0].run.attempt == 1


async def test_release__wakes_a_waiting_poll(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    # The server's fallback re-check is 60 s and the run's lease 30 s: only the release's
    # wake-up can return this poll within the helper's bound.
    waiting = asyncio.ensure_future(poll(api, ns, wait=30, worker_id="w-2"))
    await asyncio.sleep(0.1)
    await release(api, task.lease)
    tasks = await asyncio.wait_for(waiting, timeout=10)
    assert [(t.run.run_id, t.run.worker_id) for t in tasks] == [(task.run.run_id, "w-2")]


async def test_release__twice_is_lease_lost_and_changes_nothing(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    released = await release(api, task.lease)
    info = await expect_error(release(api, task.lease), FAILED, "LEASE_LOST")
    assert info.metadata["run_id"] == task.run.run_id
    assert await get_run(api, ns, task.run.run_id) == released


async def test_release__under_a_wrong_lease_is_lease_lost_and_changes_nothing(
    api: Api, ns: str
) -> None:
    task = await claim(api, ns)
    await api.worker.BeginStep(wk.BeginStepRequest(lease=task.lease, step_id="s"))
    before = (await get_run(api, ns, task.run.run_id), await steps_of(api, ns, task.run.run_id))
    wrong = altered(task.lease, lease_id=str(uuid.uuid4()))
    await expect_error(release(api, wrong), FAILED, "LEASE_LOST")
    after = (await get_run(api, ns, task.run.run_id), await steps_of(api, ns, task.run.run_id))
    assert after == before


async def test_release__unknown_run_is_run_not_found(api: Api, ns: str) -> None:
    lease = wk.RunLease(namespace_id=ns, run_id=str(uuid.uuid4()), lease_id=str(uuid.uuid4()))
    await expect_error(release(api, lease), grpc.StatusCode.NOT_FOUND, "RUN_NOT_FOUND")


async def test_release__past_the_deadline_is_run_deadline_exceeded(
    short_lease_api: Api, ns: str
) -> None:
    api = short_lease_api
    soon = timestamp_pb2.Timestamp()
    soon.GetCurrentTime()
    soon.FromNanoseconds(soon.ToNanoseconds() + 150_000_000)
    task = await claim(api, ns, deadline_at=soon)
    await asyncio.sleep(0.2)
    await expect_error(release(api, task.lease), FAILED, "RUN_DEADLINE_EXCEEDED")
    run = await get_run(api, ns, task.run.run_id)
    assert (run.status, run.error.type) == (wr.WORKFLOW_RUN_STATUS_FAILED, "DEADLINE_EXCEEDED")


# The field (as the error names it) and its bad value.
INVALID_REQUESTS = {
    "missing_run_id": ("lease.run_id", ""),
    "malformed_run_id": ("lease.run_id", "run-1"),
    "missing_lease_id": ("lease.lease_id", ""),
    "malformed_lease_id": ("lease.lease_id", "lease"),
    "bad_namespace": ("lease.namespace_id", "no spaces"),
    "long_worker_id": ("lease.worker_id", "w" * 256),
    "nul_in_worker_id": ("lease.worker_id", "w\x00"),
    "long_reason": ("reason", "r" * 1025),
    "nul_in_reason": ("reason", "bye\x00"),
}


@pytest.mark.parametrize("case", INVALID_REQUESTS)
async def test_release__invalid_request_is_invalid_argument_and_changes_nothing(
    api: Api, ns: str, case: str
) -> None:
    task = await claim(api, ns)
    before = await get_run(api, ns, task.run.run_id)
    field, bad = INVALID_REQUESTS[case]
    request = wk.ReleaseRunRequest(lease=task.lease)
    setattr(request.lease if field.startswith("lease.") else request, field.split(".")[-1], bad)
    await expect_error(api.worker.ReleaseRun(request), INVALID, "INVALID_ARGUMENT", field)
    assert await get_run(api, ns, task.run.run_id) == before
