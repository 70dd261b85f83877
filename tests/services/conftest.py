"""A real stepline server per backend on a loopback port, and stubs to call it.

Servers are started in-process (same event loop as the tests) on 127.0.0.1:0; tests
isolate themselves with a namespace of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
import pytest
import pytest_asyncio

from services.config import ServerConfig
from services.server import Server
from stepline.v1 import (
    admin_service_pb2_grpc,
    worker_service_pb2_grpc,
    workflow_service_pb2_grpc,
)
from tests.conftest import sqlite_url_for
from tests.support import namespaces

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@dataclass
class Api:
    server: Server
    channel: grpc.aio.Channel
    workflow: workflow_service_pb2_grpc.WorkflowServiceStub
    worker: worker_service_pb2_grpc.WorkerServiceStub
    admin: admin_service_pb2_grpc.AdminServiceStub


def database_url(request: pytest.FixtureRequest, backend: str, label: str) -> str:
    if backend == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    return sqlite_url_for(factory.mktemp(label) / "stepline.db")


async def start_api(url: str, **overrides: Any) -> Api:
    settings: dict[str, Any] = {
        "database_url": url,
        "grpc_address": "127.0.0.1:0",
        "sweep_interval": timedelta(milliseconds=200),
        # Long on purpose: a poll must be woken by a notification or a timer, never
        # rescued by the fallback re-check within a test's time.
        "poll_fallback": timedelta(seconds=60),
    }
    config = ServerConfig(**{**settings, **overrides})
    server = Server(config)
    await server.start()
    await namespaces.on_server_started(server)
    channel = grpc.aio.insecure_channel(server.address)
    return Api(
        server=server,
        channel=channel,
        workflow=workflow_service_pb2_grpc.WorkflowServiceStub(channel),  # type: ignore[no-untyped-call]
        worker=worker_service_pb2_grpc.WorkerServiceStub(channel),  # type: ignore[no-untyped-call]
        admin=admin_service_pb2_grpc.AdminServiceStub(channel),  # type: ignore[no-untyped-call]
    )


async def stop_api(api: Api) -> None:
    await api.channel.close(grace=None)
    namespaces.on_server_stopped(api.server)
    await api.server.stop(grace=1)


@pytest_asyncio.fixture(scope="session", params=BACKENDS)
async def api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    """A server with the default 30 s lease."""
    started = await start_api(database_url(request, request.param, "grpc"))
    try:
        yield started
    finally:
        await stop_api(started)


@pytest_asyncio.fixture(scope="session", params=BACKENDS)
async def short_lease_api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    """A server whose leases last 300 ms, for expiry and reclaim."""
    started = await start_api(
        database_url(request, request.param, "grpc-short"),
        lease_duration=timedelta(milliseconds=300),
    )
    try:
        yield started
    finally:
        await stop_api(started)


@pytest_asyncio.fixture
async def ns() -> str:
    return await namespaces.new_namespace("ns")
