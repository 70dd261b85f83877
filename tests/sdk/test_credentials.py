"""`api_key=` (or STEPLINE_API_KEY) goes as `authorization: Bearer <key>` with every call
of a Client, a SyncClient and a Worker (the worker stream included), checked by a real
server that records what arrives; and the key shows nowhere else: not in reprs, log
records (DEBUG included) or error messages."""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeAlias

import grpc
import pytest
import pytest_asyncio

from services.config import ServerConfig
from services.server import Server, _grpc_options
from stepline import Client, RunNotFound, SyncClient, Worker, WorkflowContext, workflow
from tests.conftest import sqlite_url_for
from tests.sdk.conftest import running

# Each test has a server and database of its own: the namespace that always exists will do.
NS = "default"
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


class Recorder(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Notes (method, the authorization metadata or None) for every call received."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        metadata = dict(handler_call_details.invocation_metadata or ())
        method = (handler_call_details.method or "").rsplit("/", 1)[-1]
        self.calls.append((method, metadata.get("authorization")))  # type: ignore[arg-type]
        return await continuation(handler_call_details)


@pytest_asyncio.fixture
async def recorded(tmp_path: Path) -> AsyncIterator[tuple[str, Recorder]]:
    """A real server (SQLite) with a recording interceptor in front of its services."""
    config = ServerConfig(
        database_url=sqlite_url_for(tmp_path / "stepline.db"),
        grpc_address="127.0.0.1:0",
        http_address="",
        lease_duration=timedelta(seconds=1),
    )
    recorder = Recorder()
    server = Server(config)
    server._grpc = grpc.aio.server(options=_grpc_options(config), interceptors=[recorder])
    await server.start()
    try:
        yield server.address, recorder
    finally:
        await server.stop(grace=1)


def new_key() -> str:
    return f"sk_test_{secrets.token_urlsafe(32)}"


async def slow() -> str:
    await asyncio.sleep(0.6)  # past the first heartbeat (a third of the lease)
    return "done"


@workflow(name="keyed")
async def keyed(ctx: WorkflowContext, _: Any) -> str:
    return await ctx.step.run("slow", slow)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "unary"])
async def test_api_key__goes_with_every_client_and_worker_call(
    recorded: tuple[str, Recorder], stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    address, recorder = recorded
    client_key, worker_key = new_key(), new_key()
    caplog.set_level(logging.DEBUG)
    async with (
        Client(address, namespace=NS, api_key=client_key) as client,
        running(address, NS, [keyed], api_key=worker_key, step_begin_after=0.0, stream=stream),
    ):
        run = await client.start("keyed")
        assert await client.result(run.run_id, timeout=20) == "done"
        with pytest.raises(RunNotFound) as missing:
            await client.get(str(uuid.uuid4()))

    sent = {(method, auth) for method, auth in recorder.calls}
    client_calls = {method for method, auth in sent if auth == f"Bearer {client_key}"}
    worker_calls = {method for method, auth in sent if auth == f"Bearer {worker_key}"}
    assert {"StartWorkflow", "GetWorkflowRun"} <= client_calls
    expected = {"WorkStream"} if stream else {"PollActivity", "CompleteStep", "RecordHeartbeat"}
    assert expected <= worker_calls
    assert {method for method, auth in sent if auth is None} <= {"Check", "Watch"}
    # Nowhere else: the error, the log records (all levels, with their arguments).
    shown = [str(missing.value), repr(missing.value), caplog.text]
    shown += [repr(record.args) for record in caplog.records]
    assert not [text for text in shown if client_key in text or worker_key in text]


async def test_environment_key__is_sent_by_the_sync_client(
    recorded: tuple[str, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    address, recorder = recorded
    key = new_key()
    monkeypatch.setenv("STEPLINE_API_KEY", key)

    def list_runs() -> None:
        with SyncClient(address, namespace=NS) as client:
            client.list_page()

    await asyncio.to_thread(list_runs)
    assert ("ListWorkflowRuns", f"Bearer {key}") in recorder.calls


async def test_empty_key__sends_none_even_with_the_variable_set(
    recorded: tuple[str, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    address, recorder = recorded
    monkeypatch.setenv("STEPLINE_API_KEY", new_key())
    async with Client(address, namespace=NS, api_key="") as client:
        await client.list_page()
    assert recorder.calls[-1] == ("ListWorkflowRuns", None)


def test_key__never_in_a_repr() -> None:
    key = new_key()
    client = Client("127.0.0.1:1", api_key=key)
    worker = Worker("127.0.0.1:1", workflows=[keyed], api_key=key)
    assert key not in f"{client!r} {vars(client)!r}"
    assert key not in repr(worker)


def test_key__and_authorization_metadata__are_not_both_given() -> None:
    with pytest.raises(ValueError, match="not both"):
        Client(api_key=new_key(), metadata=[("authorization", "Bearer x")])


@pytest.mark.parametrize("bad", ["with space inside\n", " padded", "caf\u00e9"])
def test_unusable_key__is_refused_without_showing_it(bad: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII") as refused:
        Client(api_key=bad)
    assert bad.strip() not in str(refused.value)


def test_key_in_plaintext_to_another_host__warns(caplog: pytest.LogCaptureFixture) -> None:
    key = new_key()
    Client("10.255.255.1:50051", api_key=key, tls=False)
    Client("127.0.0.1:50051", api_key=key, tls=False)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "sending an API key to 10.255.255.1:50051 without TLS: anyone on the network path "
        "can read it (pass tls=, or set STEPLINE_TLS_CA)"
    ]
