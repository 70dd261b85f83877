"""Client and SyncClient against a real server: every StartWorkflow field, get, list
(pages and the iterator), cancel, steps, result()/wait(), and the typed errors."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stepline import (
    Client,
    IdempotencyConflict,
    InvalidArgument,
    NonRetryableError,
    RetryPolicy,
    RunAlreadyTerminal,
    RunCanceled,
    RunFailed,
    RunNotFound,
    RunStatus,
    ServerUnavailable,
    StepAttemptNotFound,
    SyncClient,
    WorkflowContext,
    workflow,
)
from tests.sdk.conftest import running

ROOT = Path(__file__).resolve().parents[2]


def _later(seconds: float) -> datetime:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)


async def test_start__every_field_is_recorded_on_the_run(client: Client) -> None:
    deadline, start_at = _later(3600), _later(1800)
    policy = RetryPolicy(
        initial_interval=timedelta(seconds=2),
        backoff_coefficient=3.0,
        maximum_interval=timedelta(seconds=60),
        maximum_attempts=4,
    )
    run = await client.start(
        "orders.fulfil",
        {"order": 7, "items": ["a", "b"], "paid": True, "total": 9.5},
        version="v2",
        task_queue="orders",
        idempotency_key="order-7",
        context={"tenant": "acme"},
        deadline_at=deadline,
        start_at=start_at,
        retry_policy=policy,
    )

    fetched = await client.get(run.run_id)
    assert run.existing is False
    assert fetched == run
    assert fetched.status is RunStatus.PENDING and not fetched.status.terminal
    assert (fetched.workflow_name, fetched.version, fetched.task_queue) == (
        "orders.fulfil",
        "v2",
        "orders",
    )
    assert fetched.input == {"order": 7, "items": ["a", "b"], "paid": True, "total": 9.5}
    assert fetched.idempotency_key == "order-7"
    assert fetched.context["tenant"] == "acme"
    assert fetched.deadline_at == deadline
    assert fetched.available_at == start_at
    assert fetched.retry_policy == policy
    assert fetched.attempt == 1 and fetched.namespace_id == client.namespace
    assert fetched.to_dict()["status"] == "WORKFLOW_RUN_STATUS_PENDING"
    assert fetched.to_dict()["runId"] == run.run_id
    # Whole numbers print as the caller wrote them (protojson's way), not as 7.0.
    assert json.dumps(fetched.to_dict()["input"], sort_keys=True) == (
        '{"items": ["a", "b"], "order": 7, "paid": true, "total": 9.5}'
    )


async def test_start__same_idempotency_key_returns_the_existing_run(client: Client) -> None:
    first = await client.start("wf", idempotency_key="k-1")
    again = await client.start("wf", {"ignored": True}, idempotency_key="k-1")

    assert again.existing is True and again.run_id == first.run_id
    with pytest.raises(IdempotencyConflict) as caught:
        await client.start("other-wf", idempotency_key="k-1")
    assert caught.value.reason == "IDEMPOTENCY_CONFLICT"
    assert caught.value.metadata["run_id"] == first.run_id


async def test_errors__map_to_typed_exceptions_with_reason_and_metadata(client: Client) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(RunNotFound) as not_found:
        await client.get(missing)
    assert not_found.value.metadata["run_id"] == missing
    with pytest.raises(InvalidArgument) as invalid:
        await client.start("has whitespace")
    assert invalid.value.metadata["field"] == "workflow_name"
    run = await client.start("wf")
    with pytest.raises(StepAttemptNotFound):
        await client.get_step(run.run_id, str(uuid.uuid4()))
    with pytest.raises(InvalidArgument) as bad_token:
        await client.list_page(page_token="not-a-token")
    assert bad_token.value.reason == "INVALID_PAGE_TOKEN"


async def test_errors__naive_datetimes_are_refused_before_sending(client: Client) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await client.start("wf", deadline_at=datetime(2030, 1, 1))


async def test_errors__unreachable_server_is_server_unavailable() -> None:
    async with Client("127.0.0.1:1", namespace="x") as nowhere:
        with pytest.raises(ServerUnavailable):
            await nowhere.get(str(uuid.uuid4()))


async def test_list__pages_and_iterator_walk_every_run_oldest_first(client: Client) -> None:
    started = [(await client.start("lister", i)).run_id for i in range(5)]
    await client.start("someone-else")

    first = await client.list_page(page_size=2, workflow_name="lister")
    second = await client.list_page(
        page_size=2, workflow_name="lister", page_token=first.next_page_token
    )
    back = await client.list_page(
        page_size=2, workflow_name="lister", page_token=second.prev_page_token
    )
    every = [run.run_id async for run in client.list(workflow_name="lister", page_size=2)]

    assert [r.run_id for r in first.items] == started[:2] and first.has_more
    assert first.prev_page_token == ""
    assert [r.run_id for r in second.items] == started[2:4]
    assert [r.run_id for r in back.items] == started[:2]
    assert every == started


async def test_list__filters_by_status_and_creation_time(client: Client) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    kept = await client.start("filtered")
    dropped = await client.start("filtered")
    await client.cancel(dropped.run_id)

    pending = [r.run_id async for r in client.list(statuses=["pending"])]
    canceled = [r.run_id async for r in client.list(statuses=[RunStatus.CANCELED])]
    recent = [r.run_id async for r in client.list(created_after=before)]
    old = [r.run_id async for r in client.list(created_before=before)]

    assert pending == [kept.run_id] and canceled == [dropped.run_id]
    assert recent == [kept.run_id, dropped.run_id] and old == []


async def test_cancel__pending_run_becomes_canceled_and_result_raises(client: Client) -> None:
    run = await client.start("to-cancel")

    canceled = await client.cancel(run.run_id, reason="not needed")

    assert canceled.status is RunStatus.CANCELED
    with pytest.raises(RunCanceled) as caught:
        await client.result(run.run_id, timeout=5)
    assert caught.value.run.run_id == run.run_id and "not needed" in str(caught.value)
    assert (await client.cancel(run.run_id)).status is RunStatus.CANCELED


async def test_result__waits_for_a_worker_and_returns_the_output(
    client: Client, address: str, ns: str
) -> None:
    @workflow(name="double")
    async def double(ctx: WorkflowContext, n: int) -> int:
        return int(await ctx.step.run("twice", lambda: n * 2))

    run = await client.start("double", 21)
    waiting = asyncio.create_task(client.result(run.run_id, timeout=20))
    async with running(address, ns, [double]):
        assert await waiting == 42
    finished = await client.wait(run.run_id)
    steps = await client.steps(run.run_id)

    assert finished.status is RunStatus.COMPLETED and finished.finished_at is not None
    assert [(s.step_id, s.kind, s.status, s.output) for s in steps] == [
        ("twice", "FUNCTION", "COMPLETED", 42)
    ]
    assert steps[0].to_dict()["stepId"] == "twice"
    with pytest.raises(RunAlreadyTerminal):
        await client.cancel(run.run_id)


async def test_result__failed_run_raises_run_failed_with_the_failure(
    client: Client, address: str, ns: str
) -> None:
    @workflow(name="refuses")
    async def refuses(ctx: WorkflowContext, _: Any) -> None:
        raise NonRetryableError("card declined", details={"code": "do_not_honor"})

    async with running(address, ns, [refuses]):
        run = await client.start("refuses")
        with pytest.raises(RunFailed) as caught:
            await client.result(run.run_id, timeout=20)

    failure = caught.value.failure
    assert failure is not None
    assert (failure.type, failure.message, failure.non_retryable) == (
        "NonRetryableError",
        "card declined",
        True,
    )
    assert failure.details == {"code": "do_not_honor"}
    assert "Traceback" in failure.stack_trace


async def test_result__times_out_on_a_run_that_never_ends(client: Client) -> None:
    run = await client.start("nobody-runs-this")
    with pytest.raises(TimeoutError):
        await client.result(run.run_id, timeout=0.2)


def _sync_scenario(address: str, ns: str) -> dict[str, Any]:
    """The SyncClient's calls, made from a thread whose own event loop is running (as in
    a notebook cell)."""

    async def inside_a_running_loop() -> dict[str, Any]:
        with SyncClient(address, namespace=ns) as sync:
            run = sync.start("sync-wf", {"n": 1}, idempotency_key="sync-1")
            again = sync.start("sync-wf", idempotency_key="sync-1")
            other = sync.start("sync-wf", idempotency_key="sync-2")
            # Two pages of one run each; then a listing closed after its first run.
            ids = [r.run_id for r in sync.list(page_size=1)]
            listing = sync.list(page_size=1)
            first = next(listing).run_id
            listing.close()
            page = sync.list_page(page_size=1)
            got = sync.get(run.run_id)
            canceled = sync.cancel(run.run_id)
            try:
                sync.result(run.run_id, timeout=5)
            except RunCanceled as exc:
                raised: str = type(exc).__name__
            try:
                sync.get(str(uuid.uuid4()))
            except RunNotFound as exc:
                missing: str = exc.reason
            return {
                "existing": again.existing and again.run_id == run.run_id,
                "ids": ids == [run.run_id, other.run_id] and first == run.run_id,
                "page": len(page.items),
                "input": got.input,
                "canceled": canceled.status,
                "steps": sync.steps(run.run_id),
                "raised": raised,
                "missing": missing,
            }

    return asyncio.run(inside_a_running_loop())


async def test_sync_client__works_where_an_event_loop_is_already_running(
    address: str, ns: str
) -> None:
    outcome = await asyncio.to_thread(_sync_scenario, address, ns)

    assert outcome == {
        "existing": True,
        "ids": True,
        "page": 1,
        "input": {"n": 1},
        "canceled": RunStatus.CANCELED,
        "steps": [],
        "raised": "RunCanceled",
        "missing": "RUN_NOT_FOUND",
    }


async def test_sync_result__interrupted_stops_polling_the_run(
    client: Client, address: str, ns: str
) -> None:
    run = await client.start("never-served")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.sdk.interrupted_sync",
        address,
        ns,
        run.run_id,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert out.decode().strip() == "0"


async def test_client__works_from_one_asyncio_run_to_the_next(address: str, ns: str) -> None:
    shared = Client(address, namespace=ns)

    def two_loops() -> tuple[str, str]:
        started = asyncio.run(shared.start("two-loops"))
        got = asyncio.run(shared.get(started.run_id))
        asyncio.run(shared.close())
        return started.run_id, got.run_id

    # On a thread of its own: the server is served by this test's loop meanwhile.
    first, second = await asyncio.to_thread(two_loops)
    assert first == second
