"""The deploy topology for real: two `stepline-server serve` processes on ONE PostgreSQL
database, a worker attached to each. A run started through one server is finished by the
other's worker, and a start on server A wakes a long poll waiting on server B through
LISTEN/NOTIFY (B's poll fallback is an hour, so nothing else can end the wait)."""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest
import pytest_asyncio
from google.protobuf import duration_pb2
from prometheus_client.parser import text_string_to_metric_families

from stepline import Client, WorkflowContext, workflow
from stepline.v1 import (
    worker_service_pb2,
    worker_service_pb2_grpc,
    workflow_service_pb2,
    workflow_service_pb2_grpc,
)
from tests.cli.processes import BIN, environment, stop
from tests.sdk.conftest import eventually, running
from tests.support import namespaces, postgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

_GRPC = re.compile(r"gRPC listening on (\S+);")
_REST = re.compile(r"REST listening on http://(\S+)")
# Far beyond any wait in this file: a poll that returns was woken, not re-checked.
_POLL_FALLBACK = "1h"


@dataclass(frozen=True)
class ServerProcess:
    grpc: str
    http: str


@workflow(name="two_servers.greet")
async def greet(ctx: WorkflowContext, name: str) -> str:
    greeting = await ctx.step.run("greeting", _greeting, name)
    return await ctx.step.run("shout", str.upper, greeting)


def _greeting(name: str) -> str:
    return f"hello {name}"


@contextmanager
def _server(database_url: str, workdir: Path) -> Iterator[ServerProcess]:
    """`stepline-server serve` with gRPC and REST on free loopback ports."""
    process = subprocess.Popen(
        [BIN / "stepline-server", "serve", "--grpc-address", "127.0.0.1:0"],
        cwd=workdir,
        env=environment(
            STEPLINE_DATABASE_URL=database_url,
            STEPLINE_HTTP_ADDRESS="127.0.0.1:0",
            STEPLINE_POLL_FALLBACK=_POLL_FALLBACK,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield _addresses(process)
    finally:
        stop(process)
        assert process.stdout is not None
        process.stdout.close()


def _addresses(process: subprocess.Popen[str]) -> ServerProcess:
    """Read the start-up lines until both listening addresses were printed."""
    assert process.stdout is not None
    found: dict[str, str] = {}
    for line in process.stdout:
        for key, pattern in (("grpc", _GRPC), ("http", _REST)):
            if match := pattern.search(line):
                found[key] = match[1]
        if len(found) == 2:
            return ServerProcess(**found)
    raise AssertionError(f"server exited before listening (code {process.wait()})")


@pytest.fixture(scope="module")
def database(postgres_admin_url: str) -> Iterator[str]:
    """A fresh database of this module's own, shared by both servers; dropped after."""
    with postgres.fresh_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(scope="module")
def servers(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    workdir = tmp_path_factory.mktemp("two-servers")
    with _server(database, workdir) as a, _server(database, workdir) as b:
        yield a, b


@pytest.fixture
def ns(servers: tuple[ServerProcess, ServerProcess]) -> str:
    # Both servers share the database: the namespace made through one is the other's too.
    return namespaces.create_through(servers[0].grpc, f"two-{secrets.token_hex(6)}")


@pytest_asyncio.fixture
async def workers(
    servers: tuple[ServerProcess, ServerProcess], ns: str
) -> AsyncIterator[dict[str, str]]:
    """One SDK worker per server, each on a task queue of its own; yields queue → worker id."""
    async with AsyncExitStack() as stack:
        queues = {}
        for label, server in zip("ab", servers, strict=True):
            worker = await stack.enter_async_context(
                running(
                    server.grpc,
                    ns,
                    [greet],
                    task_queue=f"queue-{label}",
                    worker_id=f"worker-on-{label}",
                    install_signal_handlers=False,
                )
            )
            queues[worker.task_queue] = worker.worker_id
        yield queues


async def _run_through(server: ServerProcess, ns: str, queue: str) -> tuple[str, set[str]]:
    """Start a run through `server` and wait for it; its result and the ids of the workers
    recorded on the run and on each of its step attempts."""
    async with Client(server.grpc, namespace=ns) as client:
        run = await client.start("two_servers.greet", "stepline", task_queue=queue)
        result = await client.result(run.run_id, timeout=60)
        finished = await client.get(run.run_id)
        steps = await client.steps(run.run_id)
    assert [step.step_id for step in steps] == ["greeting", "shout"]
    return result, {finished.worker_id, *(step.worker_id for step in steps)}


async def test_run_started_through_one_server_is_finished_by_the_other_servers_worker(
    servers: tuple[ServerProcess, ServerProcess], workers: dict[str, str], ns: str
) -> None:
    a, b = servers
    # Only the worker attached to B polls queue-b, and only A's worker polls queue-a.
    assert await _run_through(a, ns, "queue-b") == ("HELLO STEPLINE", {workers["queue-b"]})
    assert await _run_through(b, ns, "queue-a") == ("HELLO STEPLINE", {workers["queue-a"]})


async def _open_long_polls(server: ServerProcess) -> float:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://{server.http}/metrics")
    response.raise_for_status()
    for family in text_string_to_metric_families(response.text):
        if family.name == "stepline_open_long_polls":
            return sum(sample.value for sample in family.samples)
    raise AssertionError("no stepline_open_long_polls in /metrics")


async def _open_long_polls_are(server: ServerProcess, count: int) -> bool:
    return await _open_long_polls(server) == count


async def test_start_on_one_server_wakes_a_long_poll_waiting_on_the_other(
    servers: tuple[ServerProcess, ServerProcess], ns: str
) -> None:
    a, b = servers
    async with grpc.aio.insecure_channel(a.grpc) as to_a, grpc.aio.insecure_channel(b.grpc) as to_b:
        workflows_a = workflow_service_pb2_grpc.WorkflowServiceStub(to_a)  # type: ignore[no-untyped-call]
        workers_b = worker_service_pb2_grpc.WorkerServiceStub(to_b)  # type: ignore[no-untyped-call]
        poll = worker_service_pb2.PollActivityRequest(
            namespace_id=ns, task_queue="wake", wait=duration_pb2.Duration(seconds=60)
        )
        # No other poll on B (the previous test's workers have gone), then ours arrives.
        await eventually(lambda: _open_long_polls_are(b, 0))
        waiting = asyncio.ensure_future(workers_b.PollActivity(poll))
        await eventually(lambda: _open_long_polls_are(b, 1))
        # Let its first, empty claim finish: from here only a wake-up can end the wait.
        await asyncio.sleep(0.3)
        assert not waiting.done()
        loop = asyncio.get_running_loop()
        sent = loop.time()
        start = workflow_service_pb2.StartWorkflowRequest(
            namespace_id=ns, workflow_name="two_servers.greet", task_queue="wake"
        )
        started = await workflows_a.StartWorkflow(start)
        # Far less than the poll's 60 s wait and B's 1 h fallback.
        response = await asyncio.wait_for(waiting, timeout=30)
        print(f"start on A → poll on B returned: {(loop.time() - sent) * 1000:.1f} ms")
    assert [task.run.run_id for task in response.tasks] == [started.run.run_id]


@workflow(name="two_servers.waits")
async def waits(ctx: WorkflowContext, key: str) -> dict[str, object]:
    signal = await ctx.step.wait_for_signal("approval", "approved")
    paid = await ctx.step.wait_for_event("payment", "paid", match={"key": key})
    return {"signal": signal, "amount": None if paid is None else paid.data["amount"]}


async def _waiting(client: Client, run_id: str, step_id: str) -> bool:
    run = await client.get(run_id)
    steps = await client.steps(run_id)
    return run.status.value == "WAITING" and any(s.step_id == step_id for s in steps)


async def test_signal_and_event_sent_to_one_server_resume_a_run_whose_worker_polls_the_other(
    servers: tuple[ServerProcess, ServerProcess], ns: str
) -> None:
    """B's poll fallback is an hour: only the NOTIFY of the resolving call can wake it."""
    a, b = servers
    key = secrets.token_hex(4)
    async with (
        running(b.grpc, ns, [waits], task_queue="waits", install_signal_handlers=False),
        Client(a.grpc, namespace=ns) as client,
    ):
        run = await client.start("two_servers.waits", key, task_queue="waits")
        await eventually(lambda: _waiting(client, run.run_id, "approval"))
        loop = asyncio.get_running_loop()
        sent = loop.time()
        await client.signal(run.run_id, "approved", "yes")
        await eventually(lambda: _waiting(client, run.run_id, "payment"), interval=0.005)
        print(f"signal on A → run waiting again via B: {(loop.time() - sent) * 1000:.1f} ms")
        await client.send_event("paid", {"key": key, "amount": 30})
        assert await client.result(run.run_id, timeout=30) == {"signal": "yes", "amount": 30}
