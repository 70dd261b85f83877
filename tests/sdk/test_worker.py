"""The in-process Worker against a real server: cancel during a step, concurrency slots,
graceful shutdown of in-flight runs, and reconnects while the server is down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta
from typing import Any

import pytest

from stepline import (
    Client,
    InvalidArgument,
    RetryPolicy,
    RunStatus,
    Worker,
    WorkflowContext,
    workflow,
)
from stepline import _worker as worker_module
from tests.sdk.conftest import eventually, running
from tests.services.conftest import Api, start_api, stop_api
from tests.support.proxy import Proxy


async def test_cancel__during_a_step_cancels_its_task_and_writes_nothing(
    client: Client, address: str, ns: str
) -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def wait_forever() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    @workflow(name="cancellable")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        await ctx.step.run("first", lambda: "done")
        await ctx.step.run("wait", wait_forever)
        return "never"

    async with running(address, ns, [flow], step_begin_after=0.0) as worker:
        run = await client.start("cancellable")
        await asyncio.wait_for(started.wait(), 20)
        await eventually(lambda: _has_running_step(client, run.run_id))
        await client.cancel(run.run_id, reason="customer changed their mind")
        await asyncio.wait_for(cancelled.wait(), 20)
        await asyncio.wait_for(worker.wait_for_ended(1), 20)
        assert worker.stats.ended == {"canceled": 1}

    final = await client.get(run.run_id)
    steps = [(s.step_id, s.status) for s in await client.steps(run.run_id)]
    assert final.status is RunStatus.CANCELED and final.output is None
    assert steps == [("first", "COMPLETED"), ("wait", "FAILED")]
    assert (await client.steps(run.run_id))[1].error is not None


async def _has_running_step(client: Client, run_id: str) -> bool:
    return any(step.status == "RUNNING" for step in await client.steps(run_id))


async def test_worker__claims_no_more_runs_than_its_slots(
    client: Client, address: str, ns: str
) -> None:
    gate = asyncio.Event()
    inside: list[str] = []

    async def hold(run_id: str) -> None:
        inside.append(run_id)
        await gate.wait()

    @workflow(name="held")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        await ctx.step.run("hold", hold, ctx.run_id)

    runs = [await client.start("held") for _ in range(5)]
    async with running(address, ns, [flow], concurrency=2):
        await eventually(lambda: len(inside) == 2)
        await asyncio.sleep(0.3)  # room for a wrongly claimed third run to show up
        assert len(inside) == 2
        pending = [await client.get(run.run_id) for run in runs]
        assert sum(run.status is RunStatus.PENDING for run in pending) == 3
        gate.set()
        for run in runs:
            assert (await client.wait(run.run_id, timeout=20)).status is RunStatus.COMPLETED


async def test_shutdown__lets_in_flight_runs_finish_within_the_grace(
    client: Client, address: str, ns: str
) -> None:
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await asyncio.sleep(0.5)
        return "finished"

    @workflow(name="slow")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        return await ctx.step.run("slow", slow)

    worker = Worker(address, namespace=ns, workflows=[flow], poll_wait=5, shutdown_grace=10)
    serving = asyncio.create_task(worker.run())
    run = await client.start("slow")
    await asyncio.wait_for(started.wait(), 20)
    await worker.shutdown()
    await serving

    assert (await client.get(run.run_id)).status is RunStatus.COMPLETED


async def test_shutdown__past_the_grace_releases_runs_without_writing(
    client: Client, address: str, ns: str
) -> None:
    started = asyncio.Event()

    async def stuck() -> None:
        started.set()
        await asyncio.sleep(60)

    @workflow(name="stuck")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        await ctx.step.run("stuck", stuck)

    # step_begin_after: the step is never recorded as begun, so any write would show.
    worker = Worker(
        address,
        namespace=ns,
        workflows=[flow],
        poll_wait=5,
        shutdown_grace=0.2,
        step_begin_after=60,
    )
    serving = asyncio.create_task(worker.run())
    run = await client.start("stuck")
    await asyncio.wait_for(started.wait(), 20)
    await worker.shutdown()
    await serving

    # Released: claimable again at once, its attempt unchanged, no step written.
    released = await client.get(run.run_id)
    assert released.status is RunStatus.PENDING and released.attempt == 1
    assert await client.steps(run.run_id) == []


async def test_shutdown__a_second_signal_skips_the_grace(
    client: Client, address: str, ns: str
) -> None:
    started = asyncio.Event()

    async def stuck() -> None:
        started.set()
        await asyncio.sleep(120)

    @workflow(name="stuck-twice")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        await ctx.step.run("stuck", stuck)

    worker = Worker(
        address,
        namespace=ns,
        workflows=[flow],
        poll_wait=5,
        shutdown_grace=90,
        install_signal_handlers=False,
    )
    serving = asyncio.create_task(worker.run())
    run = await client.start("stuck-twice")
    await asyncio.wait_for(started.wait(), 20)
    # What SIGTERM does, twice: the first starts the 90 s grace, the second ends it.
    worker._on_signal(signal.SIGTERM)
    worker._on_signal(signal.SIGTERM)
    await asyncio.wait_for(serving, timeout=30)  # far less than the grace

    assert (await client.get(run.run_id)).status is RunStatus.PENDING  # released


async def test_shutdown__a_run_that_ignores_cancellation_does_not_hold_it(
    client: Client, address: str, ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    started, let_go = asyncio.Event(), asyncio.Event()

    async def stubborn() -> None:
        started.set()
        while not let_go.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await let_go.wait()

    @workflow(name="stubborn")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        await ctx.step.run("stubborn", stubborn)

    worker = Worker(address, namespace=ns, workflows=[flow], poll_wait=5, shutdown_grace=0.1)
    serving = asyncio.create_task(worker.run())
    await client.start("stubborn")
    await asyncio.wait_for(started.wait(), 20)
    try:
        await asyncio.wait_for(worker.shutdown(), 20)
        await serving
        # Not released while its code still runs: the lease decides.
        assert "1 runs ignore cancellation" in caplog.text
        assert "run released" not in caplog.text
    finally:
        let_go.set()


@pytest.mark.parametrize(
    ("stream", "logged"), [(True, "worker stream closed"), (False, "poll failed")]
)
async def test_worker__reconnects_with_backoff_while_the_server_is_down(
    request: pytest.FixtureRequest,
    ns: str,
    caplog: pytest.LogCaptureFixture,
    stream: bool,
    logged: str,
) -> None:
    api = await _fresh_server(request)
    address = api.server.address
    await stop_api(api)

    @workflow(name="late")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        return await ctx.step.run("hello", lambda: "hello")

    caplog.set_level(logging.WARNING, logger="stepline.worker")
    async with running(address, ns, [flow], stream=stream):
        await eventually(lambda: logged in caplog.text)
        api = await _fresh_server(request, address)
        try:
            async with Client(address, namespace=ns) as client:
                run = await client.start("late")
                assert await client.result(run.run_id, timeout=30) == "hello"
        finally:
            await stop_api(api)


async def _fresh_server(request: pytest.FixtureRequest, address: str = "127.0.0.1:0") -> Api:
    """A server on the SQLite file of this test, at `address`."""
    path = request.getfixturevalue("tmp_path") / "stepline.db"
    return await start_api(
        f"sqlite:///{path}", grpc_address=address, lease_duration=timedelta(seconds=1)
    )


async def test_logs__records_carry_the_run_step_and_workflow(
    client: Client, address: str, ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("first try fails")
        return "ok"

    @workflow(name="logged")
    async def flow(ctx: WorkflowContext, _: Any) -> str:
        ctx.log.info("inside the workflow", extra={"order": 7})
        retry = RetryPolicy(initial_interval=timedelta(milliseconds=10))
        return await ctx.step.run("flaky", flaky, retry=retry)

    caplog.set_level(logging.INFO, logger="stepline")
    async with running(address, ns, [flow]):
        run = await client.start("logged")
        assert await client.result(run.run_id, timeout=20) == "ok"

    retried = [r for r in caplog.records if "retrying" in r.getMessage()]
    (mine,) = [r for r in caplog.records if r.getMessage() == "inside the workflow"]
    assert len(retried) == 1 and retried[0].name == "stepline.worker"
    assert _fields(retried[0], "run_id", "step_id", "workflow") == [run.run_id, "flaky", "logged"]
    assert mine.name == "stepline.workflow"
    assert _fields(mine, "run_id", "order") == [run.run_id, 7]


def _fields(record: logging.LogRecord, *names: str) -> list[Any]:
    return [getattr(record, name, None) for name in names]


# RegisterWorker, the first call on either path, refuses the namespace.
@pytest.mark.parametrize(("stream", "field"), [(True, "namespace_id"), (False, "namespace_id")])
async def test_worker__misconfigured_namespace_raises_instead_of_retrying(
    address: str, stream: bool, field: str
) -> None:
    @workflow(name="never")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        return None

    worker = Worker(
        address, namespace="not a namespace!", workflows=[flow], poll_wait=1, stream=stream
    )
    with pytest.raises(InvalidArgument) as caught:
        await asyncio.wait_for(worker.run(), 20)
    assert caught.value.metadata["field"] == field


def test_worker__refuses_two_workflows_with_one_name() -> None:
    @workflow(name="twin")
    async def one(ctx: WorkflowContext, _: Any) -> None:
        return None

    @workflow(name="twin")
    async def two(ctx: WorkflowContext, _: Any) -> None:
        return None

    with pytest.raises(ValueError, match="two workflows are named 'twin'"):
        Worker("127.0.0.1:1", workflows=[one, two])


@pytest.mark.parametrize("stream", [True, False])
async def test_poll__a_server_shutting_down_is_not_polled_in_a_tight_loop(
    request: pytest.FixtureRequest, ns: str, stream: bool
) -> None:
    api = await _fresh_server(request)

    @workflow(name="idle")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        return None

    try:
        # Its polls now come back empty at once, and its streams end as they open.
        api.server.shutting_down.set()
        async with running(api.server.address, ns, [flow], poll_wait=5, stream=stream) as worker:
            await asyncio.sleep(1.0)
    finally:
        await stop_api(api)

    # Backing off from 0.1 s doubles up to 10 s: a handful of polls or streams in a
    # second, where a loop that resets its backoff on every empty answer makes hundreds.
    assert 1 <= (worker.stats.streams if stream else worker.stats.polls) < 50


@pytest.mark.parametrize("install", [True, False])
async def test_signals__the_host_apps_handler_is_back_after_the_worker(
    address: str, ns: str, install: bool
) -> None:
    def host_handler(signum: int, frame: Any) -> None:
        return None

    @workflow(name="signals")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        return None

    previous = signal.signal(signal.SIGTERM, host_handler)
    try:
        async with running(address, ns, [flow], install_signal_handlers=install) as worker:
            await eventually(lambda: worker.stats.polls + worker.stats.streams > 0)
            during = signal.getsignal(signal.SIGTERM)
        after = signal.getsignal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)

    assert (during is host_handler) is not install
    assert after is host_handler


async def test_poll__a_stalled_poll_past_its_deadline_is_a_warning_not_an_error(
    address: str, ns: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The poll's deadline is its wait plus a margin; a short margin makes the stall short.
    monkeypatch.setattr(worker_module, "_POLL_DEADLINE_MARGIN", 0.5)
    proxy = Proxy(address)
    await proxy.start()

    @workflow(name="never-started")
    async def flow(ctx: WorkflowContext, _: Any) -> None:
        return None

    caplog.set_level(logging.WARNING, logger="stepline.worker")
    try:
        async with running(proxy.address, ns, [flow], stream=False, poll_wait=0.5) as worker:
            await eventually(lambda: worker.stats.polls >= 2)  # connected, polling
            proxy.lose_answers()  # the server answers nothing more: the polls stall
            await eventually(lambda: "poll failed (Deadline Exceeded)" in caplog.text)
            proxy.cut()  # let the graceful shutdown go on without a stalled connection
    finally:
        await proxy.close()
    failures = [r for r in caplog.records if r.getMessage().startswith("poll failed")]
    assert failures
    assert {r.levelno for r in failures} == {logging.WARNING}
