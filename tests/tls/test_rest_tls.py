"""REST over HTTPS (the same certificate as gRPC), both backends; the standalone gateway
dials a remote core over TLS, with a client certificate when the core requires one."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest

from gateway.serve import HttpServer
from services.config import ServerConfig
from services.rest import rest_server, start_http
from stepline import TLSConfig
from tests.tls.conftest import TlsServer


async def test_rest__serves_https_with_the_servers_certificate(
    tls_server: TlsServer, ns: str
) -> None:
    async with tls_server.https() as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).json() == {"status": "SERVING"}
        started = await http.post(
            f"/v1/namespaces/{ns}/runs",
            json={"workflowName": "tls.rest", "idempotencyKey": "k1"},
        )
        assert started.status_code == 200, started.text
        listed = await http.get(f"/v1/namespaces/{ns}/runs")
    assert [run["runId"] for run in listed.json()["workflowRuns"]] == [
        started.json()["run"]["runId"]
    ]


async def test_rest__refuses_plain_http_and_untrusting_clients(tls_server: TlsServer) -> None:
    plain = f"http://{tls_server.http.address}/healthz"
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.TransportError):
            await http.get(plain)
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.get(f"{tls_server.base_url}/healthz")


@asynccontextmanager
async def gateway_to(core: TlsServer, backend_tls: TLSConfig | None) -> AsyncIterator[str]:
    """`stepline-server gateway --grpc-backend CORE`, serving plain HTTP on loopback."""
    config = ServerConfig(http_address="127.0.0.1:0", shutdown_grace=timedelta(seconds=1))
    http: HttpServer = rest_server(config, core.address, backend_tls=backend_tls)
    await start_http(http, config.http_address)
    try:
        yield f"http://{http.address}"
    finally:
        await http.stop()


async def test_gateway__reaches_a_tls_core(tls_server: TlsServer, ns: str) -> None:
    async with (
        gateway_to(tls_server, tls_server.trusting()) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        assert (await http.get("/readyz")).status_code == 200
        started = await http.post(f"/v1/namespaces/{ns}/runs", json={"workflowName": "gw.tls"})
        assert started.status_code == 200, started.text


async def test_gateway__presents_its_client_certificate_to_an_mtls_core(
    mtls_server: TlsServer, ns: str
) -> None:
    async with (
        gateway_to(mtls_server, mtls_server.with_client_cert()) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        started = await http.post(f"/v1/namespaces/{ns}/runs", json={"workflowName": "gw.mtls"})
        assert started.status_code == 200, started.text


@pytest.mark.parametrize("backend_tls", ["plaintext", "no-client-cert"])
async def test_gateway__without_the_right_tls__answers_503(
    mtls_server: TlsServer, ns: str, backend_tls: str
) -> None:
    tls = None if backend_tls == "plaintext" else mtls_server.trusting()
    async with (
        gateway_to(mtls_server, tls) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        assert (await http.get("/readyz")).status_code == 503
        refused = await http.get(f"/v1/namespaces/{ns}/runs")
    assert refused.status_code == 503
    assert refused.json()["details"][0]["reason"] == "UNAVAILABLE"


def test_https_context__is_what_the_tests_trust(tls_server: TlsServer) -> None:
    """The tests' trust is the test CA alone: the system's store does not know it."""
    assert (
        ssl.create_default_context().get_ca_certs()
        != ssl.create_default_context(cafile=tls_server.certs.ca).get_ca_certs()
    )
