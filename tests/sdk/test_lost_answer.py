"""Issue 18's report: a server commits a worker's CompleteWorkflow and dies before its
answer reaches the worker. The worker sends the call again, under the same lease, to
the server started in its place, which answers the completed run: the worker reports
the run completed, not "lease lost".

The server is a real `stepline-server serve` process, SIGKILLed once the completion is
in the database. The worker reaches it through a TCP proxy (tests/support/proxy.py)
that drops the server's bytes from the moment the workflow returns, so the answer is
lost for certain, whatever the timing; no hook in the server is needed."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio

from stepline import Client, ExecutionAlreadyEnded, LeaseLost, RunStatus, WorkflowContext, workflow
from stepline._calls import UnaryCalls
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc as wk_grpc
from tests.cli.processes import BIN, environment
from tests.sdk.conftest import eventually, running
from tests.services.conftest import BACKENDS, Api, database_url
from tests.services.helpers import claim, value
from tests.support import namespaces
from tests.support.proxy import Proxy

_LISTENING = re.compile(r"gRPC listening on (\S+);")


class ServerProcess:
    """`stepline-server serve` on a free loopback port, killed (SIGKILL) at will."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        self.workdir = workdir
        self.process: asyncio.subprocess.Process | None = None
        self.address = ""

    async def start(self) -> str:
        self.process = await asyncio.create_subprocess_exec(
            BIN / "stepline-server",
            "serve",
            "--grpc-address",
            "127.0.0.1:0",
            cwd=self.workdir,
            env=environment(STEPLINE_DATABASE_URL=self.url, STEPLINE_HTTP_ADDRESS=""),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        line = (await asyncio.wait_for(self.process.stdout.readline(), 60)).decode()
        match = _LISTENING.search(line)
        assert match, f"server did not start: {line!r}"
        self.address = match[1]
        return self.address

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@pytest_asyncio.fixture
async def servers(tmp_path: Path) -> AsyncIterator[list[ServerProcess]]:
    """The test's server processes, killed at its end whatever happened."""
    started: list[ServerProcess] = []
    try:
        yield started
    finally:
        for server in started:
            await server.kill()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
async def test_lost_answer__completion_sent_again_to_a_restarted_server_reports_completed(
    request: pytest.FixtureRequest,
    backend: str,
    ns: str,
    tmp_path: Path,
    servers: list[ServerProcess],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = database_url(request, backend, "lost-answer")
    first = ServerProcess(url, tmp_path)
    servers.append(first)
    proxy = Proxy(await first.start())
    namespaces.create_through(first.address, ns)
    await proxy.start()
    charged: list[int] = []

    @workflow(name="checkout")
    async def flow(ctx: WorkflowContext, order: int) -> dict[str, int]:
        await ctx.step.run("charge", charged.append, order)
        proxy.lose_answers()  # the server handles what follows, but its answers are lost
        return {"receipt": order}

    caplog.set_level(logging.INFO, logger="stepline.worker")
    try:
        async with running(proxy.address, ns, [flow]) as worker:
            async with Client(first.address, namespace=ns) as client:
                run = await client.start("checkout", 42)
                await eventually(lambda: _status_is(client, run.run_id, RunStatus.COMPLETED))
            # Committed, and the worker still waits for the answer.
            assert worker.stats.ended["completed"] == 0
            await first.kill()
            proxy.cut()

            second = ServerProcess(url, tmp_path)
            servers.append(second)
            proxy.retarget(await second.start())
            await eventually(lambda: worker.stats.ended.total() == 1, within=60)
            async with Client(second.address, namespace=ns) as client:
                final = await client.get(run.run_id)
    finally:
        await proxy.close()

    assert dict(worker.stats.ended) == {"completed": 1}
    assert worker.stats.streams >= 2  # the call went again on a new stream
    messages = [r.getMessage() for r in caplog.records if r.name == "stepline.worker"]
    assert "run completed" in messages
    assert not [m for m in messages if "lease lost" in m or "already ended" in m], messages
    assert (final.status, final.output, final.attempt) == (RunStatus.COMPLETED, {"receipt": 42}, 1)
    assert charged == [42]


async def _status_is(client: Client, run_id: str, status: RunStatus) -> bool:
    return (await client.get(run_id)).status is status


# --- the SDK's errors -------------------------------------------------------------------


async def test_lost_answer__another_result_is_execution_already_ended_a_lease_lost(
    sdk_api: Api, ns: str
) -> None:
    stub = wk_grpc.WorkerServiceStub(sdk_api.channel)  # type: ignore[no-untyped-call]
    calls = UnaryCalls(stub, None)
    task = await claim(sdk_api, ns)
    done = wk.CompleteWorkflowRequest(lease=task.lease, output=value("done"))
    first: Any = await calls.call("complete_workflow", done)
    again: Any = await calls.call("complete_workflow", done)
    assert again == first
    other = wk.CompleteWorkflowRequest(lease=task.lease, output=value("other"))
    with pytest.raises(ExecutionAlreadyEnded) as caught:
        await calls.call("complete_workflow", other)
    assert isinstance(caught.value, LeaseLost)  # the execution is over either way
    assert caught.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.metadata["run_status"] == "COMPLETED"
