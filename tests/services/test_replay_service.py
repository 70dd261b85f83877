"""ReplayWorkflowRun, BatchCancelWorkflowRuns and BatchReplayWorkflowRuns through a real
server on each backend: the calls, their tokens and their errors."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from stepline.v1 import common_pb2
from stepline.v1 import step_attempt_pb2 as st
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr
from stepline.v1 import workflow_service_pb2 as wf
from tests.services.conftest import Api
from tests.services.helpers import expect_error, get_run, poll, start, steps_of, value

CALLER = "00-11111111111111111111111111111111-2222222222222222-01"
ORIGINAL = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
INVALID = grpc.StatusCode.INVALID_ARGUMENT
FAILED = wr.WORKFLOW_RUN_STATUS_FAILED
PENDING = wr.WORKFLOW_RUN_STATUS_PENDING
CANCELED = wr.WORKFLOW_RUN_STATUS_CANCELED


async def failed_at_step_3(api: Api, ns: str) -> wr.WorkflowRun:
    """A run that completed steps s1 and s2, then failed for good at s3."""
    request = wf.StartWorkflowRequest(namespace_id=ns, workflow_name="wf", input=value(1))
    await api.workflow.StartWorkflow(request, metadata=[("traceparent", ORIGINAL)])
    (task,) = await poll(api, ns)
    for step_id in ("s1", "s2"):
        await api.worker.CompleteStep(
            wk.CompleteStepRequest(lease=task.lease, step_id=step_id, output=value(step_id))
        )
    error = common_pb2.Failure(type="Bug", message="s3 broke", non_retryable=True)
    await api.worker.FailStep(wk.FailStepRequest(lease=task.lease, step_id="s3", error=error))
    run = await get_run(api, ns, task.run.run_id)
    assert run.status == FAILED
    return run  # type: ignore[no-any-return]


async def replay(api: Api, ns: str, run_id: str, **fields: Any) -> wf.ReplayWorkflowRunResponse:
    request = wf.ReplayWorkflowRunRequest(namespace_id=ns, run_id=run_id, **fields)
    response: wf.ReplayWorkflowRunResponse = await api.workflow.ReplayWorkflowRun(
        request, metadata=[("traceparent", CALLER)]
    )
    return response


# --- ReplayWorkflowRun -----------------------------------------------------------------


async def test_replay__new_run_from_the_failing_step(api: Api, ns: str) -> None:
    original = await failed_at_step_3(api, ns)
    response = await replay(api, ns, original.run_id, from_step_id="s3", input=value(2))
    run = response.run
    assert not response.existing
    assert (run.status, run.replay_of_run_id, run.workflow_name, run.task_queue) == (
        PENDING,
        original.run_id,
        original.workflow_name,
        original.task_queue,
    )
    assert run.input == value(2)
    steps = await steps_of(api, ns, run.run_id)
    originals = await steps_of(api, ns, original.run_id)
    assert [(s.step_id, s.status, s.output) for s in steps] == [
        ("s1", st.STEP_ATTEMPT_STATUS_COMPLETED, value("s1")),
        ("s2", st.STEP_ATTEMPT_STATUS_COMPLETED, value("s2")),
    ]
    assert [s.copied_from_step_attempt_id for s in steps] == [
        s.step_attempt_id for s in originals[:2]
    ]
    assert (await get_run(api, ns, original.run_id)).replay_count == 1
    listed = await api.workflow.ListWorkflowRuns(
        wf.ListWorkflowRunsRequest(namespace_id=ns, replay_of_run_id=original.run_id)
    )
    assert [r.run_id for r in listed.workflow_runs] == [run.run_id]


async def test_replay__trace_continues_the_callers_with_a_link_to_the_originals(
    api: Api, ns: str
) -> None:
    original = await failed_at_step_3(api, ns)
    run = (await replay(api, ns, original.run_id)).run
    trace = run.context.fields["trace"].struct_value.fields
    assert trace["traceparent"].string_value == CALLER
    (link,) = trace["links"].list_value.values
    assert link.struct_value.fields["traceparent"].string_value == ORIGINAL


async def test_replay__idempotency_key_returns_the_same_replay(api: Api, ns: str) -> None:
    original = await failed_at_step_3(api, ns)
    first = await replay(api, ns, original.run_id, from_step_id="s3", idempotency_key="fix-1")
    again = await replay(api, ns, original.run_id, from_step_id="s3", idempotency_key="fix-1")
    assert (again.existing, again.run.run_id) == (True, first.run.run_id)
    other = await failed_at_step_3(api, ns)
    await expect_error(
        replay(api, ns, other.run_id, idempotency_key="fix-1"),
        grpc.StatusCode.ALREADY_EXISTS,
        "IDEMPOTENCY_CONFLICT",
    )


async def test_replay__run_not_terminal_is_failed_precondition(api: Api, ns: str) -> None:
    pending = (await start(api, ns)).run
    info = await expect_error(
        replay(api, ns, pending.run_id),
        grpc.StatusCode.FAILED_PRECONDITION,
        "RUN_NOT_TERMINAL",
    )
    assert info.metadata["run_status"] == "PENDING"
    assert (await get_run(api, ns, pending.run_id)).replay_count == 0


async def test_replay__unknown_step_is_invalid_argument_naming_it(api: Api, ns: str) -> None:
    original = await failed_at_step_3(api, ns)
    info = await expect_error(
        replay(api, ns, original.run_id, from_step_id="s9"),
        INVALID,
        "STEP_NOT_FOUND",
        field="from_step_id",
    )
    assert info.metadata["step_id"] == "s9"


async def test_replay__bad_requests_change_nothing(api: Api, ns: str) -> None:
    original = await failed_at_step_3(api, ns)
    await expect_error(replay(api, ns, "nope"), INVALID, "INVALID_ARGUMENT", field="run_id")
    await expect_error(
        replay(api, ns, original.run_id, from_step_id="has space"),
        INVALID,
        "INVALID_ARGUMENT",
        field="from_step_id",
    )
    await expect_error(
        replay(api, ns, "01234567-89ab-7def-8123-456789abcdef"),
        grpc.StatusCode.NOT_FOUND,
        "RUN_NOT_FOUND",
    )
    assert (await get_run(api, ns, original.run_id)).replay_count == 0


# --- batches ---------------------------------------------------------------------------


async def batch_cancel(api: Api, ns: str, **fields: Any) -> wf.BatchCancelWorkflowRunsResponse:
    request = wf.BatchCancelWorkflowRunsRequest(namespace_id=ns, **fields)
    response: wf.BatchCancelWorkflowRunsResponse = await api.workflow.BatchCancelWorkflowRuns(
        request
    )
    return response


async def batch_replay(api: Api, ns: str, **fields: Any) -> wf.BatchReplayWorkflowRunsResponse:
    request = wf.BatchReplayWorkflowRunsRequest(namespace_id=ns, **fields)
    response: wf.BatchReplayWorkflowRunsResponse = await api.workflow.BatchReplayWorkflowRuns(
        request
    )
    return response


async def test_batch_cancel__pages_until_has_more_is_false(api: Api, ns: str) -> None:
    runs = [(await start(api, ns, task_queue=f"{ns}-q")).run.run_id for _ in range(5)]
    done = [(await failed_at_step_3(api, ns)).run_id]
    seen: list[str] = []
    calls, token = 0, ""
    while True:
        page = await batch_cancel(api, ns, page_size=2, page_token=token, reason="cleanup")
        seen.extend(page.run_ids)
        calls += 1
        if not page.has_more:
            assert page.next_page_token == ""
            break
        token = page.next_page_token
    assert (seen, calls) == (runs, 3)
    for run_id in runs:
        run = await get_run(api, ns, run_id)
        assert (run.status, run.error.message) == (CANCELED, "cleanup")
    assert (await get_run(api, ns, done[0])).status == FAILED


async def test_batch_cancel__repeated_page_token_does_not_cancel_twice(api: Api, ns: str) -> None:
    runs = [(await start(api, ns, task_queue=f"{ns}-q")).run.run_id for _ in range(4)]
    first = await batch_cancel(api, ns, page_size=2, reason="first")
    second = await batch_cancel(api, ns, page_size=2, page_token=first.next_page_token)
    # The client died before it saved the second answer, and repeats the call.
    repeated = await batch_cancel(
        api, ns, page_size=2, page_token=first.next_page_token, reason="repeated"
    )
    assert list(second.run_ids) == runs[2:]
    assert (list(repeated.run_ids), repeated.skipped_count) == ([], 2)
    assert repeated.next_page_token == second.next_page_token == ""
    messages = [(await get_run(api, ns, run_id)).error.message for run_id in runs]
    assert messages == ["first", "first", "workflow run canceled", "workflow run canceled"]


async def test_batch_cancel__dry_run_counts_and_changes_nothing(api: Api, ns: str) -> None:
    runs = [(await start(api, ns, task_queue=f"{ns}-q")).run.run_id for _ in range(3)]
    page = await batch_cancel(api, ns, dry_run=True)
    assert (list(page.run_ids), page.affected_count, page.has_more) == (runs, 3, False)
    assert [(await get_run(api, ns, r)).status for r in runs] == [PENDING] * 3


async def test_batch_replay__repeated_page_token_answers_the_same_replays(
    api: Api, ns: str
) -> None:
    originals = [(await failed_at_step_3(api, ns)).run_id for _ in range(3)]
    failed = [FAILED]
    first = await batch_replay(api, ns, statuses=failed, from_step_id="s3", page_size=2)
    assert first.batch_id and first.has_more
    second = await batch_replay(
        api, ns, statuses=failed, from_step_id="s3", page_size=2, page_token=first.next_page_token
    )
    repeated = await batch_replay(
        api, ns, statuses=failed, from_step_id="s3", page_size=2, page_token=first.next_page_token
    )
    assert list(repeated.run_ids) == list(second.run_ids) and len(second.run_ids) == 1
    assert repeated.batch_id == second.batch_id == first.batch_id
    counts = [(await get_run(api, ns, run_id)).replay_count for run_id in originals]
    assert counts == [1, 1, 1]
    replays = [await get_run(api, ns, r) for r in [*first.run_ids, *second.run_ids]]
    assert [r.replay_of_run_id for r in replays] == originals


async def test_batch_replay__a_first_call_with_its_own_batch_id_is_safe_to_repeat(
    api: Api, ns: str
) -> None:
    original = (await failed_at_step_3(api, ns)).run_id
    first = await batch_replay(api, ns, batch_id="nightly-1")
    again = await batch_replay(api, ns, batch_id="nightly-1")
    assert list(again.run_ids) == list(first.run_ids) and again.batch_id == "nightly-1"
    assert (await get_run(api, ns, original)).replay_count == 1


async def test_batch_replay__skips_runs_that_never_reached_the_step(api: Api, ns: str) -> None:
    reached = (await failed_at_step_3(api, ns)).run_id
    pending = (await start(api, ns, task_queue=f"{ns}-q")).run.run_id
    page = await batch_replay(api, ns, from_step_id="s2")
    assert (page.affected_count, page.skipped_count) == (1, 1)
    assert (await get_run(api, ns, reached)).replay_count == 1
    assert (await get_run(api, ns, pending)).replay_count == 0


async def test_batch__tokens_belong_to_their_batch(api: Api, ns: str) -> None:
    for _ in range(2):
        await failed_at_step_3(api, ns)
    first = await batch_replay(api, ns, page_size=1, dry_run=True)
    token = first.next_page_token
    await expect_error(
        batch_replay(api, ns, page_size=1, page_token=token),
        INVALID,
        "INVALID_PAGE_TOKEN",
        field="page_token",
    )
    await expect_error(
        batch_cancel(api, ns, page_size=1, page_token=token, dry_run=True),
        INVALID,
        "INVALID_PAGE_TOKEN",
    )
    await expect_error(
        batch_replay(api, ns, page_size=1, page_token=token[:-2] + "xx", dry_run=True),
        INVALID,
        "INVALID_PAGE_TOKEN",
    )
    await expect_error(
        batch_replay(api, ns, page_size=1, page_token=token, dry_run=True, batch_id="other"),
        INVALID,
        "INVALID_ARGUMENT",
        field="batch_id",
    )
    await expect_error(
        batch_cancel(api, ns, page_size=1001), INVALID, "INVALID_ARGUMENT", field="page_size"
    )
    await expect_error(
        batch_cancel(api, ns, replay_of_run_id="nope"),
        INVALID,
        "INVALID_ARGUMENT",
        field="replay_of_run_id",
    )


async def test_replays__wake_a_waiting_poll_at_once(api: Api, ns: str) -> None:
    """The server's poll fallback is a minute long here: only a wake-up is this quick."""
    original = await failed_at_step_3(api, ns)
    for make in (
        lambda: replay(api, ns, original.run_id),
        lambda: batch_replay(api, ns, statuses=[FAILED]),
    ):
        polling = asyncio.create_task(poll(api, ns, wait=30))
        await asyncio.sleep(0.2)
        await make()
        (task,) = await asyncio.wait_for(polling, 5)
        assert task.run.replay_of_run_id == original.run_id
        await api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=task.lease))
