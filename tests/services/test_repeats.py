"""Repeated endings through a real server: CompleteWorkflow, FailWorkflow, ScheduleSleep
and FailStep sent again under the same lease (their answer was lost) answer the run as
recorded, counted once by the metrics; another result is FAILED_PRECONDITION /
EXECUTION_ALREADY_ENDED; a lease another claim replaced is LEASE_LOST, as is a repeated
ReleaseRun. Unary calls and the worker stream alike."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest

from stepline.v1 import common_pb2
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr
from tests.services.conftest import Api
from tests.services.helpers import (
    claim,
    expect_error,
    get_run,
    poll,
    seconds,
    steps_of,
    value,
)
from tests.services.test_metrics import FAST_RETRY, scrape_of
from tests.services.test_work_stream import Stream

FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
ERROR = common_pb2.Failure(type="Boom", message="boom", details=value({"code": 7}))
OTHER_ERROR = common_pb2.Failure(type="Boom", message="boom", details=value({"code": 8}))

Call = Callable[[Api, wk.RunLease], Awaitable[Any]]

# Each call that ends an execution, and the same call with another result.
ENDINGS: dict[str, tuple[Call, Call]] = {
    "complete_workflow": (
        lambda api, lease: api.worker.CompleteWorkflow(
            wk.CompleteWorkflowRequest(lease=lease, output=value({"total": 12.5}))
        ),
        lambda api, lease: api.worker.CompleteWorkflow(
            wk.CompleteWorkflowRequest(lease=lease, output=value({"total": 13}))
        ),
    ),
    "fail_workflow": (
        lambda api, lease: api.worker.FailWorkflow(
            wk.FailWorkflowRequest(lease=lease, error=ERROR)
        ),
        lambda api, lease: api.worker.FailWorkflow(
            wk.FailWorkflowRequest(lease=lease, error=OTHER_ERROR)
        ),
    ),
    "schedule_sleep": (
        lambda api, lease: api.worker.ScheduleSleep(
            wk.ScheduleSleepRequest(lease=lease, step_id="nap", duration=seconds(3600))
        ),
        lambda api, lease: api.worker.ScheduleSleep(
            wk.ScheduleSleepRequest(lease=lease, step_id="nap", duration=seconds(60))
        ),
    ),
    "fail_step": (
        lambda api, lease: api.worker.FailStep(
            wk.FailStepRequest(lease=lease, step_id="charge", error=ERROR)
        ),
        lambda api, lease: api.worker.FailStep(
            wk.FailStepRequest(lease=lease, step_id="refund", error=ERROR)
        ),
    ),
}


@pytest.mark.parametrize("ending", ENDINGS)
async def test_repeat__answers_the_recorded_run_unchanged(api: Api, ns: str, ending: str) -> None:
    call, _ = ENDINGS[ending]
    task = await claim(api, ns, name="orders")
    first = await call(api, task.lease)
    run, steps = await get_run(api, ns, task.run.run_id), await steps_of(api, ns, task.run.run_id)
    again = await call(api, task.lease)
    assert again == first
    assert await get_run(api, ns, task.run.run_id) == run
    assert await steps_of(api, ns, task.run.run_id) == steps


async def test_repeat__metrics_count_the_ending_once(api: Api, ns: str) -> None:
    done, failed = await claim(api, ns, name="orders"), await claim(api, ns, name="orders")
    for _ in range(3):
        await ENDINGS["complete_workflow"][0](api, done.lease)
        await api.worker.FailStep(
            wk.FailStepRequest(
                lease=failed.lease,
                step_id="charge",
                error=common_pb2.Failure(type="Fatal", non_retryable=True),
            )
        )
    got = await scrape_of(api)
    assert got.value("stepline_runs_completed_total", namespace=ns, workflow="orders") == 1
    assert got.value("stepline_runs_failed_total", namespace=ns, workflow="orders") == 1
    assert got.value("stepline_step_attempts_total", namespace=ns, outcome="failed") == 1


@pytest.mark.parametrize("ending", ENDINGS)
async def test_repeat__with_another_result_is_execution_already_ended(
    api: Api, ns: str, ending: str
) -> None:
    call, other = ENDINGS[ending]
    task = await claim(api, ns)
    await call(api, task.lease)
    run = await get_run(api, ns, task.run.run_id)
    refused = other(api, task.lease)
    info = await expect_error(refused, FAILED_PRECONDITION, "EXECUTION_ALREADY_ENDED")
    assert info.metadata["run_id"] == task.run.run_id
    assert info.metadata["run_status"] == wr.WorkflowRunStatus.Name(run.status).removeprefix(
        "WORKFLOW_RUN_STATUS_"
    )
    assert await get_run(api, ns, task.run.run_id) == run


@pytest.mark.parametrize("ending", ["fail_workflow", "fail_step"])
async def test_repeat__after_the_retry_was_claimed_is_lease_lost(
    api: Api, ns: str, ending: str
) -> None:
    call, _ = ENDINGS[ending]
    task = await claim(api, ns, retry_policy=FAST_RETRY)
    await call(api, task.lease)
    (retry,) = await poll(api, ns)
    assert retry.lease.lease_id != task.lease.lease_id
    info = await expect_error(call(api, task.lease), FAILED_PRECONDITION, "LEASE_LOST")
    assert info.metadata["run_status"] == "RUNNING"
    assert (await get_run(api, ns, task.run.run_id)).attempt == 2


async def test_repeat__of_a_release_is_lease_lost(api: Api, ns: str) -> None:
    # A release clears the run's lease: nothing tells its repeat from a late call.
    task = await claim(api, ns)
    release = wk.ReleaseRunRequest(lease=task.lease, reason="worker shutdown")
    await api.worker.ReleaseRun(release)
    info = await expect_error(api.worker.ReleaseRun(release), FAILED_PRECONDITION, "LEASE_LOST")
    assert info.metadata["run_status"] == "PENDING"


async def test_repeat__over_the_worker_stream_together_and_later(api: Api, ns: str) -> None:
    # Two sendings in one message are completed together (group commit); a third comes
    # on a new stream, as the SDK sends unanswered calls again after reconnecting.
    task = await claim(api, ns)
    request = wk.CompleteWorkflowRequest(lease=task.lease, output=value(["a", 1]))
    async with Stream(api, ns, credits=0) as stream:
        await stream.send(
            calls=[
                wk.WorkCall(call_id=1, complete_workflow=request),
                wk.WorkCall(call_id=2, complete_workflow=request),
            ]
        )
        results = await stream.results(2)
    async with Stream(api, ns, credits=0) as stream:
        await stream.send(calls=[wk.WorkCall(call_id=1, complete_workflow=request)])
        (later,) = (await stream.results(1)).values()
    answers = [results[1], results[2], later]
    assert [a.WhichOneof("result") for a in answers] == ["complete_workflow"] * 3
    runs = [a.complete_workflow.run for a in answers]
    assert runs[0] == runs[1] == runs[2]
    assert runs[0].status == wr.WORKFLOW_RUN_STATUS_COMPLETED
    assert await get_run(api, ns, task.run.run_id) == runs[0]


async def test_repeat__concurrent_sendings_complete_the_run_once(api: Api, ns: str) -> None:
    task = await claim(api, ns, name="orders")
    call, _ = ENDINGS["complete_workflow"]
    answers = await asyncio.gather(*(call(api, task.lease) for _ in range(5)))
    assert all(answer == answers[0] for answer in answers)
    got = await scrape_of(api)
    assert got.value("stepline_runs_completed_total", namespace=ns, workflow="orders") == 1
