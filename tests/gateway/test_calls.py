"""Headers both ways, deadlines, client disconnects and an unreachable core, through
uvicorn on a loopback port in front of a test-only gRPC service."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest_asyncio

from gateway.serve import HttpServer
from tests.gateway import protos
from tests.gateway.conftest import start_gateway
from tests.gateway.rest_helpers import expect_error
from tests.gateway.testservice import EchoServicer, start_testing_server


@dataclass
class EchoBackend:
    servicer: EchoServicer
    gateway: HttpServer
    http: httpx.AsyncClient


@pytest_asyncio.fixture(scope="module")
async def testing() -> AsyncIterator[EchoBackend]:
    server, address, servicer = await start_testing_server()
    gateway = await start_gateway(address, services=[protos.service("Testing")])
    http = httpx.AsyncClient(base_url=f"http://{gateway.address}", timeout=30)
    try:
        yield EchoBackend(servicer, gateway, http)
    finally:
        await http.aclose()
        await gateway.stop()
        await server.stop(None)


async def test_request_headers_pass_through_as_grpc_metadata(testing: EchoBackend) -> None:
    response = await testing.http.post(
        "/v1/echo",
        json={"text": "hi"},
        headers={
            "Authorization": "Bearer t0k",
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "tracestate": "a=1",
            "baggage": "user=ada",
            "X-Request-Id": "req-1",
            "Grpc-Metadata-Tenant": "acme",
            "Grpc-Metadata-Blob-Bin": "AAH/",
            "Grpc-Metadata-Grpc-Status": "0",  # reserved: dropped
            "X-Other": "not forwarded",
        },
    )
    assert response.status_code == 200, response.text
    received = response.json()["metadata"]
    assert received["authorization"] == "Bearer t0k"
    assert received["traceparent"].startswith("00-4bf92f")
    assert (received["tracestate"], received["baggage"]) == ("a=1", "user=ada")
    assert (received["x-request-id"], received["tenant"]) == ("req-1", "acme")
    assert received["blob-bin"] == "base64:AAH/"
    assert "x-other" not in received and "grpc-status" not in received


async def test_response_metadata_comes_back_as_grpc_metadata_headers(testing: EchoBackend) -> None:
    response = await testing.http.post("/v1/echo", json={"text": "back"})
    assert response.headers["grpc-metadata-x-echo"] == "back"
    assert response.headers["grpc-metadata-x-trailer"] == "done"
    assert response.headers["grpc-metadata-x-raw-bin"] == "AP8="


async def test_bad_binary_metadata_header_is_400(testing: EchoBackend) -> None:
    response = await testing.http.post(
        "/v1/echo", json={}, headers={"Grpc-Metadata-Blob-Bin": "***"}
    )
    expect_error(response, 400, 3, "INVALID_ARGUMENT", "Grpc-Metadata-blob-bin")


async def test_response_body_rule_answers_only_that_field(testing: EchoBackend) -> None:
    response = await testing.http.get("/v1/wait", params={"text": "only this"})
    assert response.status_code == 200
    assert response.json() == "only this"


async def test_tiny_grpc_timeout_on_a_slow_call_is_504(testing: EchoBackend) -> None:
    response = await testing.http.get(
        "/v1/wait", params={"sleepSeconds": 60}, headers={"Grpc-Timeout": "1m"}
    )
    expect_error(response, 504, 4, "DEADLINE_EXCEEDED")


async def test_default_timeout_applies_without_a_header() -> None:
    server, address, _ = await start_testing_server()
    gateway = await start_gateway(
        address, services=[protos.service("Testing")], default_timeout=0.05
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://{gateway.address}") as http:
            response = await http.get("/v1/wait", params={"sleepSeconds": 60})
        expect_error(response, 504, 4, "DEADLINE_EXCEEDED")
    finally:
        await gateway.stop()
        await server.stop(None)


async def test_client_disconnect_cancels_the_upstream_call(testing: EchoBackend) -> None:
    testing.servicer.waiting.clear()
    testing.servicer.cancelled.clear()
    host, port = testing.gateway.address.rsplit(":", 1)
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /v1/wait?sleepSeconds=120 HTTP/1.1\r\nHost: test\r\n\r\n")
    await writer.drain()
    await asyncio.wait_for(testing.servicer.waiting.wait(), timeout=10)
    writer.close()
    await writer.wait_closed()
    # The servicer's sleep is cancelled only if the gateway cancelled the gRPC call.
    await asyncio.wait_for(testing.servicer.cancelled.wait(), timeout=10)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_unreachable_core_is_503_and_not_ready() -> None:
    backend = f"127.0.0.1:{_closed_port()}"
    gateway = await start_gateway(backend)
    try:
        async with httpx.AsyncClient(base_url=f"http://{gateway.address}") as http:
            response = await http.get("/v1/namespaces/default/runs")
            body = expect_error(response, 503, 14, "UNAVAILABLE")
            assert f"the stepline core at {backend} is unreachable" in body["message"]
            assert body["details"][0]["metadata"] == {"backend": backend}
            expect_error(await http.get("/readyz"), 503, 14, "UNAVAILABLE")
            alive = await http.get("/healthz")
            assert (alive.status_code, alive.json()) == (200, {"status": "SERVING"})
    finally:
        await gateway.stop()


async def test_body_over_the_limit_is_413() -> None:
    server, address, _ = await start_testing_server()
    gateway = await start_gateway(
        address, services=[protos.service("Testing")], max_body_bytes=1024
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://{gateway.address}") as http:
            small = await http.post("/v1/echo", json={"text": "x" * 900})
            assert small.status_code == 200
            large = await http.post("/v1/echo", json={"text": "x" * 2000})
        expect_error(large, 413, 3, "PAYLOAD_TOO_LARGE")
    finally:
        await gateway.stop()
        await server.stop(None)
