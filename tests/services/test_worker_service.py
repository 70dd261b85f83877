"""WorkerService through a real server: the worker protocol and its error reasons."""

from __future__ import annotations

import asyncio
import uuid

import grpc
from google.protobuf import timestamp_pb2

from stepline.v1 import common_pb2
from stepline.v1 import step_attempt_pb2 as st
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr
from tests.services.conftest import Api
from tests.services.helpers import (
    altered,
    claim,
    expect_error,
    get_run,
    poll,
    seconds,
    start,
    steps_of,
    value,
)

FAILED = grpc.StatusCode.FAILED_PRECONDITION
INVALID = grpc.StatusCode.INVALID_ARGUMENT
FAST_RETRY = common_pb2.RetryPolicy(initial_interval=seconds(0.001), maximum_attempts=3)


async def test_poll__claims_a_run_with_a_fresh_lease(api: Api, ns: str) -> None:
    run = (await start(api, ns, input=value({"n": 1}))).run
    tasks = await poll(api, ns, worker_id="w-1")
    assert len(tasks) == 1
    task = tasks[0]
    assert task.run.run_id == run.run_id
    assert task.run.status == wr.WORKFLOW_RUN_STATUS_RUNNING
    assert task.run.worker_id == "w-1"
    assert task.run.input == value({"n": 1})
    # The claim, to send back unchanged with every later call on the run.
    lease = task.lease
    assert (lease.namespace_id, lease.run_id, lease.worker_id) == (ns, run.run_id, "w-1")
    assert uuid.UUID(task.lease.lease_id)
    assert task.lease_expires_at.ToDatetime() > task.run.started_at.ToDatetime()
    assert list(task.steps) == []


async def test_poll__returns_nothing_when_the_wait_runs_out(api: Api, ns: str) -> None:
    assert await poll(api, ns, wait=0.05) == []


async def test_poll__is_woken_by_a_start(api: Api, ns: str) -> None:
    # The server's fallback re-check is 60 s and the poll waits 30 s: only the
    # wake-up of the start can return it within the helper's bound.
    waiting = asyncio.ensure_future(poll(api, ns, wait=30))
    await asyncio.sleep(0.1)
    run = (await start(api, ns)).run
    tasks = await asyncio.wait_for(waiting, timeout=10)
    assert [t.run.run_id for t in tasks] == [run.run_id]


async def test_poll__claims_a_batch_up_to_max_runs(api: Api, ns: str) -> None:
    for _ in range(5):
        await start(api, ns)
    assert len(await poll(api, ns, max_runs=3)) == 3
    assert len(await poll(api, ns, max_runs=3)) == 2


async def test_poll__only_claims_named_workflows_of_its_queue(api: Api, ns: str) -> None:
    wanted = (await start(api, ns, "wanted", task_queue="q")).run
    await start(api, ns, "other", task_queue="q")
    await start(api, ns, "wanted", task_queue="elsewhere")
    tasks = await poll(api, ns, task_queue="q", workflow_names=["wanted"], max_runs=10)
    assert [t.run.run_id for t in tasks] == [wanted.run_id]


async def test_poll__waits_for_a_delayed_start(api: Api, ns: str) -> None:
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    start_at = timestamp_pb2.Timestamp(seconds=now.seconds, nanos=now.nanos)
    start_at.FromNanoseconds(now.ToNanoseconds() + 300_000_000)
    run = (await start(api, ns, start_at=start_at)).run
    assert await poll(api, ns, wait=0) == []
    tasks = await poll(api, ns, wait=20)
    assert [t.run.run_id for t in tasks] == [run.run_id]


async def test_heartbeat__extends_the_lease(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    response = await api.worker.RecordHeartbeat(wk.RecordHeartbeatRequest(lease=task.lease))
    assert not response.cancel_requested
    assert response.lease_expires_at.ToDatetime() > task.lease_expires_at.ToDatetime()


async def test_steps__begin_complete_and_memoize(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    lease = task.lease
    begun = (
        await api.worker.BeginStep(wk.BeginStepRequest(lease=lease, step_id="charge"))
    ).step_attempt
    assert begun.status == st.STEP_ATTEMPT_STATUS_RUNNING and begun.attempt == 1
    assert begun.kind == st.STEP_KIND_FUNCTION
    done = await api.worker.CompleteStep(
        wk.CompleteStepRequest(
            lease=lease, step_attempt_id=begun.step_attempt_id, output=value({"ok": True})
        )
    )
    assert done.step_attempt.status == st.STEP_ATTEMPT_STATUS_COMPLETED
    again = await api.worker.BeginStep(wk.BeginStepRequest(lease=lease, step_id="charge"))
    assert again.step_attempt == done.step_attempt


async def test_steps__complete_in_one_call_and_keep_the_first_output(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    lease = task.lease
    first = await api.worker.CompleteStep(
        wk.CompleteStepRequest(lease=lease, step_id="ship", output=value(1))
    )
    second = await api.worker.CompleteStep(
        wk.CompleteStepRequest(lease=lease, step_id="ship", output=value(2))
    )
    assert second.step_attempt == first.step_attempt
    assert second.step_attempt.output == value(1)


async def test_steps__history_comes_with_the_next_claim(api: Api, ns: str) -> None:
    task = await claim(api, ns, retry_policy=FAST_RETRY)
    lease = task.lease
    await api.worker.CompleteStep(wk.CompleteStepRequest(lease=lease, step_id="a", output=value(1)))
    failed = await api.worker.FailStep(
        wk.FailStepRequest(lease=lease, step_id="b", error=common_pb2.Failure(type="Boom"))
    )
    assert failed.run.status == wr.WORKFLOW_RUN_STATUS_PENDING
    retry = (await poll(api, ns, wait=20))[0]
    assert retry.run.attempt == 2
    assert [(s.step_id, s.status) for s in retry.steps] == [
        ("a", st.STEP_ATTEMPT_STATUS_COMPLETED),
        ("b", st.STEP_ATTEMPT_STATUS_FAILED),
    ]
    second_b = await api.worker.BeginStep(wk.BeginStepRequest(lease=retry.lease, step_id="b"))
    assert second_b.step_attempt.attempt == 2


async def test_fail_step__retries_with_backoff_then_fails(api: Api, ns: str) -> None:
    policy = common_pb2.RetryPolicy(
        initial_interval=seconds(0.01), backoff_coefficient=3, maximum_attempts=2
    )
    task = await claim(api, ns, retry_policy=policy)
    error = common_pb2.Failure(type="ValueError", message="bad", stack_trace="tb")
    first = await api.worker.FailStep(
        wk.FailStepRequest(lease=task.lease, step_id="s", error=error)
    )
    assert first.step_attempt.status == st.STEP_ATTEMPT_STATUS_FAILED
    assert first.step_attempt.error == error
    run = first.run
    assert run.status == wr.WORKFLOW_RUN_STATUS_PENDING and run.attempt == 2
    delay = run.available_at.ToDatetime() - run.updated_at.ToDatetime()
    assert delay.total_seconds() == 0.01
    retry = (await poll(api, ns, wait=20))[0]
    last = await api.worker.FailStep(
        wk.FailStepRequest(lease=retry.lease, step_id="s", error=error)
    )
    assert last.run.status == wr.WORKFLOW_RUN_STATUS_FAILED
    assert last.run.error == error and last.run.HasField("finished_at")


async def test_fail_workflow__non_retryable_fails_at_once(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    error = common_pb2.Failure(type="Fatal", non_retryable=True)
    failed = await api.worker.FailWorkflow(wk.FailWorkflowRequest(lease=task.lease, error=error))
    assert failed.run.status == wr.WORKFLOW_RUN_STATUS_FAILED
    assert failed.run.attempt == 1


async def test_fail_workflow__retryable_goes_back_to_pending(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    error = common_pb2.Failure(type="Flaky")
    failed = await api.worker.FailWorkflow(wk.FailWorkflowRequest(lease=task.lease, error=error))
    assert failed.run.status == wr.WORKFLOW_RUN_STATUS_PENDING
    assert failed.run.attempt == 2 and failed.run.error == error


async def test_complete_workflow__records_the_output(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    done = await api.worker.CompleteWorkflow(
        wk.CompleteWorkflowRequest(lease=task.lease, output=value({"total": 3}))
    )
    assert done.run.status == wr.WORKFLOW_RUN_STATUS_COMPLETED
    assert done.run.output == value({"total": 3})
    assert await get_run(api, ns, task.run.run_id) == done.run


async def test_sleep__parks_the_run_and_wakes_it(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    parked = await api.worker.ScheduleSleep(
        wk.ScheduleSleepRequest(lease=task.lease, step_id="nap", duration=seconds(0.2))
    )
    assert parked.run.status == wr.WORKFLOW_RUN_STATUS_SLEEPING
    assert parked.step_attempt.kind == st.STEP_KIND_SLEEP
    assert parked.step_attempt.status == st.STEP_ATTEMPT_STATUS_RUNNING
    assert parked.run.wake_up_at == parked.step_attempt.wake_up_at
    # The poll waits for the wake-up time by the database clock, not a fallback.
    woken = (await poll(api, ns, wait=20))[0]
    assert woken.run.run_id == task.run.run_id
    assert woken.run.attempt == 1
    assert [(s.step_id, s.status) for s in woken.steps] == [
        ("nap", st.STEP_ATTEMPT_STATUS_COMPLETED)
    ]
    again = await api.worker.ScheduleSleep(
        wk.ScheduleSleepRequest(lease=woken.lease, step_id="nap", duration=seconds(60))
    )
    assert again.run.status == wr.WORKFLOW_RUN_STATUS_RUNNING
    assert again.step_attempt.status == st.STEP_ATTEMPT_STATUS_COMPLETED


async def test_sleep__past_wake_up_time_completes_at_once(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    past = timestamp_pb2.Timestamp(seconds=1_000_000_000)
    response = await api.worker.ScheduleSleep(
        wk.ScheduleSleepRequest(lease=task.lease, step_id="nap", wake_up_at=past)
    )
    assert response.run.status == wr.WORKFLOW_RUN_STATUS_RUNNING
    assert response.step_attempt.status == st.STEP_ATTEMPT_STATUS_COMPLETED
    await api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=task.lease))


# --- error reasons ------------------------------------------------------------------------


def _every_fenced_call(lease: wk.RunLease) -> list[object]:
    failure = common_pb2.Failure(type="E")
    return [
        lambda api: api.worker.RecordHeartbeat(wk.RecordHeartbeatRequest(lease=lease)),
        lambda api: api.worker.BeginStep(wk.BeginStepRequest(lease=lease, step_id="x")),
        lambda api: api.worker.CompleteStep(wk.CompleteStepRequest(lease=lease, step_id="x")),
        lambda api: api.worker.FailStep(
            wk.FailStepRequest(lease=lease, step_id="x", error=failure)
        ),
        lambda api: api.worker.ScheduleSleep(
            wk.ScheduleSleepRequest(lease=lease, step_id="x", duration=seconds(5))
        ),
        lambda api: api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=lease)),
        lambda api: api.worker.FailWorkflow(wk.FailWorkflowRequest(lease=lease, error=failure)),
        lambda api: api.worker.ReleaseRun(wk.ReleaseRunRequest(lease=lease, reason="shutdown")),
    ]


async def test_lease_lost__a_wrong_lease_changes_nothing_on_every_call(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    before = await get_run(api, ns, task.run.run_id)
    wrong = altered(task.lease, lease_id=str(uuid.uuid4()))
    for call in _every_fenced_call(wrong):
        info = await expect_error(call(api), FAILED, "LEASE_LOST")  # type: ignore[operator]
        assert info.metadata["run_id"] == task.run.run_id
    assert await get_run(api, ns, task.run.run_id) == before
    assert await steps_of(api, ns, task.run.run_id) == []


async def test_lease_lost__after_expiry_and_reclaim(short_lease_api: Api, ns: str) -> None:
    api = short_lease_api
    stale = await claim(api, ns)
    await api.worker.BeginStep(wk.BeginStepRequest(lease=stale.lease, step_id="slow"))
    fresh = (await poll(api, ns, wait=20))[0]
    assert fresh.lease.lease_id != stale.lease.lease_id
    # The reclaim closed the old attempt: the new lease sees it FAILED, not running.
    assert [(s.step_id, s.status, s.error.type) for s in fresh.steps] == [
        ("slow", st.STEP_ATTEMPT_STATUS_FAILED, "LEASE_EXPIRED")
    ]
    for call in _every_fenced_call(stale.lease):
        await expect_error(call(api), FAILED, "LEASE_LOST")  # type: ignore[operator]
    await expect_error(
        api.worker.CompleteStep(
            wk.CompleteStepRequest(
                lease=fresh.lease, step_attempt_id=fresh.steps[0].step_attempt_id
            )
        ),
        FAILED,
        "STEP_NOT_RUNNING",
    )


async def test_run_deadline_exceeded__at_a_worker_call(short_lease_api: Api, ns: str) -> None:
    api = short_lease_api
    soon = timestamp_pb2.Timestamp()
    soon.GetCurrentTime()
    soon.FromNanoseconds(soon.ToNanoseconds() + 150_000_000)
    task = await claim(api, ns, deadline_at=soon)
    await asyncio.sleep(0.2)
    await expect_error(
        api.worker.CompleteStep(wk.CompleteStepRequest(lease=task.lease, step_id="late")),
        FAILED,
        "RUN_DEADLINE_EXCEEDED",
    )
    run = await get_run(api, ns, task.run.run_id)
    assert run.status == wr.WORKFLOW_RUN_STATUS_FAILED
    assert run.error.type == "DEADLINE_EXCEEDED"
    assert await steps_of(api, ns, task.run.run_id) == []


async def test_deadline__sweep_fails_a_pending_run_with_no_worker(api: Api, ns: str) -> None:
    soon = timestamp_pb2.Timestamp()
    soon.GetCurrentTime()
    soon.FromNanoseconds(soon.ToNanoseconds() + 100_000_000)
    run = (await start(api, ns, deadline_at=soon, start_at=soon)).run
    for _ in range(100):
        current = await get_run(api, ns, run.run_id)
        if current.status == wr.WORKFLOW_RUN_STATUS_FAILED:
            break
        await asyncio.sleep(0.05)
    assert current.status == wr.WORKFLOW_RUN_STATUS_FAILED
    assert current.error.type == "DEADLINE_EXCEEDED"


async def test_step_kind_mismatch__sleep_on_a_function_step(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    lease = task.lease
    await api.worker.CompleteStep(wk.CompleteStepRequest(lease=lease, step_id="s"))
    info = await expect_error(
        api.worker.ScheduleSleep(
            wk.ScheduleSleepRequest(lease=lease, step_id="s", duration=seconds(1))
        ),
        FAILED,
        "STEP_KIND_MISMATCH",
    )
    assert info.metadata["recorded_kind"] == "FUNCTION"


async def test_step_already_completed__fail_after_complete(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    lease = task.lease
    await api.worker.CompleteStep(wk.CompleteStepRequest(lease=lease, step_id="s"))
    await expect_error(
        api.worker.FailStep(
            wk.FailStepRequest(lease=lease, step_id="s", error=common_pb2.Failure(type="E"))
        ),
        FAILED,
        "STEP_ALREADY_COMPLETED",
    )
    assert (await get_run(api, ns, task.run.run_id)).status == wr.WORKFLOW_RUN_STATUS_RUNNING


async def test_step_attempt_not_found__complete_an_unknown_attempt(api: Api, ns: str) -> None:
    task = await claim(api, ns)
    await expect_error(
        api.worker.CompleteStep(
            wk.CompleteStepRequest(lease=task.lease, step_attempt_id=str(uuid.uuid4()))
        ),
        grpc.StatusCode.NOT_FOUND,
        "STEP_ATTEMPT_NOT_FOUND",
    )


async def test_run_not_found__worker_call_on_an_unknown_run(api: Api, ns: str) -> None:
    lease = wk.RunLease(namespace_id=ns, run_id=str(uuid.uuid4()), lease_id=str(uuid.uuid4()))
    await expect_error(
        api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=lease)),
        grpc.StatusCode.NOT_FOUND,
        "RUN_NOT_FOUND",
    )
