"""The REST gateway on a loopback port in front of a real server (SQLite and PostgreSQL).

`rest_api` (both backends) and `rest_api_sqlite` yield a RestApi: `.base_url`
(http://127.0.0.1:PORT), `.grpc_address`, `.http` (an httpx.AsyncClient on base_url)
and `.api` (the gRPC stubs of tests/services). Servers are started in-process, in the
tests' event loop, once per session; tests isolate themselves by namespace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from gateway.app import create_app
from gateway.serve import HttpServer
from storage.access import NamespaceCreateParams
from tests.services.conftest import BACKENDS, Api, database_url, ns, start_api, stop_api

__all__ = ["RestApi", "ns", "start_rest"]


@dataclass
class RestApi:
    api: Api
    gateway: HttpServer
    http: httpx.AsyncClient

    @property
    def base_url(self) -> str:
        return f"http://{self.gateway.address}"

    @property
    def grpc_address(self) -> str:
        return self.api.server.address


async def start_gateway(backend: str, **options: Any) -> HttpServer:
    """A gateway on 127.0.0.1:0 forwarding to the gRPC `backend`."""
    server = HttpServer(create_app(backend, **options), "127.0.0.1:0", shutdown_grace=1)
    await server.start()
    return server


async def start_rest(url: str, **server_options: Any) -> RestApi:
    """A server on `url` (ServerConfig overrides in `server_options`) and its gateway."""
    api = await start_api(url, **server_options)
    gateway = await start_gateway(api.server.address)
    http = httpx.AsyncClient(base_url=f"http://{gateway.address}", timeout=30)
    return RestApi(api=api, gateway=gateway, http=http)


async def stop_rest(rest: RestApi) -> None:
    await rest.http.aclose()
    await rest.gateway.stop()
    await stop_api(rest.api)


@pytest_asyncio.fixture(scope="session", params=BACKENDS)
async def rest_api(request: pytest.FixtureRequest) -> AsyncIterator[RestApi]:
    """The gateway in front of a server, once per backend."""
    started = await start_rest(database_url(request, request.param, "rest"))
    try:
        yield started
    finally:
        await stop_rest(started)


@pytest_asyncio.fixture(scope="session")
async def rest_api_sqlite(request: pytest.FixtureRequest) -> AsyncIterator[RestApi]:
    """The gateway in front of a SQLite server only (for slow, backend-neutral checks)."""
    started = await start_rest(database_url(request, "sqlite", "rest-sqlite"))
    # The fixed namespace of the document-versus-server checks (test_openapi.py).
    await started.api.server.store.namespace_create(NamespaceCreateParams("rules"))
    try:
        yield started
    finally:
        await stop_rest(started)
