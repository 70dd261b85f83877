"""A real stepline server with TLS on both ports (in-process, loopback, as `stepline-server
serve` wires it: the REST gateway reaches the core over the server's private socket), per
backend, and with mTLS; the test CA and certificates come from `certs` (tests/conftest.py)."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from gateway.serve import HttpServer
from services.rest import rest_server, start_http
from services.server import Server
from stepline import TLSConfig
from tests.sdk.conftest import ns
from tests.services.conftest import BACKENDS, database_url, start_api, stop_api
from tests.support.certs import Certs

__all__ = ["TlsServer", "ns", "serving"]


@dataclass
class TlsServer:
    server: Server
    http: HttpServer
    certs: Certs

    @property
    def address(self) -> str:
        return self.server.address

    @property
    def base_url(self) -> str:
        return f"https://{self.http.address}"

    def trusting(self, **fields: Any) -> TLSConfig:
        """A client TLS config that trusts the test CA (plus `fields`)."""
        return TLSConfig(ca=self.certs.ca, **fields)

    def with_client_cert(self) -> TLSConfig:
        return self.trusting(cert=self.certs.client_cert, key=self.certs.client_key)

    def https(self, **options: Any) -> httpx.AsyncClient:
        """An httpx client for the REST port that trusts the test CA."""
        verify = ssl.create_default_context(cafile=self.certs.ca)
        return httpx.AsyncClient(base_url=self.base_url, verify=verify, **options)


@contextlib.asynccontextmanager
async def serving(
    url: str, certs: Certs, *, mtls: bool = False, **overrides: Any
) -> AsyncIterator[TlsServer]:
    """A server through the suite's own `start_api` (so that what it does for every test
    server, it does for these), with TLS, and its REST gateway as `serve` wires it."""
    api = await start_api(
        url,
        http_address="127.0.0.1:0",
        lease_duration=timedelta(seconds=2),
        tls_cert=certs.server_cert,
        tls_key=certs.server_key,
        tls_client_ca=certs.ca if mtls else "",
        **overrides,
    )
    try:
        server = api.server
        assert server.private_target is not None
        http = rest_server(server.config, server.private_target, server)
        await start_http(http, server.config.http_address)
        try:
            yield TlsServer(server, http, certs)
        finally:
            await http.stop()
    finally:
        await stop_api(api)


@pytest_asyncio.fixture(scope="session", params=BACKENDS)
async def tls_server(request: pytest.FixtureRequest, certs: Certs) -> AsyncIterator[TlsServer]:
    """TLS on gRPC and REST, no client certificates asked for; both backends."""
    async with serving(database_url(request, request.param, "tls"), certs) as started:
        yield started


@pytest_asyncio.fixture(scope="session")
async def mtls_server(
    tmp_path_factory: pytest.TempPathFactory, certs: Certs
) -> AsyncIterator[TlsServer]:
    """TLS on both ports, and gRPC callers must present a certificate the test CA signed."""
    url = f"sqlite:///{tmp_path_factory.mktemp('mtls') / 'stepline.db'}"
    async with serving(url, certs, mtls=True) as started:
        yield started
