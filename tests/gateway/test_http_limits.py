"""Issue 18: half-sent requests are not held for ever, connections are capped per
process, and what uvicorn would answer in plain text is a JSON error.

A gateway with short deadlines (headers 1 s, body 2 s) in front of a real server gets
slow clients: some send half a request line, some full headers and half a body, some
nothing. Each is answered 408 (or closed, when it sent nothing) within the bound, while
ordinary requests on other connections keep being served."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from gateway.app import create_app
from gateway.http_limits import HttpLimits
from gateway.serve import HttpServer
from services import cli
from services.config import ServerConfig
from services.rest import http_limits
from tests.gateway.conftest import RestApi

LIMITS = HttpLimits(header_timeout=1.0, body_timeout=2.0, max_connections=400)
# Past its deadline, a slow client must be answered within this (a loaded 2-core box).
SLACK = 8.0
SLOW_CLIENTS = 100  # of each kind


@pytest_asyncio.fixture
async def limited(rest_api_sqlite: RestApi) -> AsyncIterator[HttpServer]:
    server = HttpServer(
        create_app(rest_api_sqlite.grpc_address),
        "127.0.0.1:0",
        shutdown_grace=1,
        limits=LIMITS,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _open(server: HttpServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = server.address.rsplit(":", 1)
    return await asyncio.open_connection(host, int(port))


async def _slow_client(server: HttpServer, sent: bytes) -> tuple[float, bytes]:
    """Send `sent` and nothing more; (seconds until the server closed, what it answered)."""
    reader, writer = await _open(server)
    began = time.monotonic()
    try:
        writer.write(sent)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=60)  # until EOF
        return time.monotonic() - began, answer
    finally:
        writer.close()


def _status_and_body(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"connection: close" in head.lower(), head
    return status, json.loads(body)


HALF_HEADERS = b"POST /v1/namespaces/default/runs HTTP/1.1\r\nHost: x\r\nContent-Le"
HALF_BODY = (
    b"POST /v1/namespaces/default/runs HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
)


@pytest.mark.slow
async def test_slow_clients__are_answered_408_and_closed_while_others_are_served(
    limited: HttpServer,
) -> None:
    slow = [
        *(_slow_client(limited, HALF_HEADERS) for _ in range(SLOW_CLIENTS)),
        *(_slow_client(limited, HALF_BODY) for _ in range(SLOW_CLIENTS)),
        *(_slow_client(limited, b"") for _ in range(SLOW_CLIENTS)),
    ]
    slow_tasks = [asyncio.ensure_future(client) for client in slow]
    served = 0
    async with httpx.AsyncClient(base_url=f"http://{limited.address}", timeout=10) as http:
        while not all(task.done() for task in slow_tasks):
            response = await http.get("/healthz")
            assert response.status_code == 200
            served += 1
            await asyncio.sleep(0.05)
    results = [task.result() for task in slow_tasks]
    assert served >= 5  # ordinary requests went on throughout

    half_headers = results[:SLOW_CLIENTS]
    half_body = results[SLOW_CLIENTS : 2 * SLOW_CLIENTS]
    silent = results[2 * SLOW_CLIENTS :]
    for seconds, answer in half_headers:
        assert LIMITS.header_timeout * 0.9 <= seconds < LIMITS.header_timeout + SLACK
        status, body = _status_and_body(answer)
        assert status == 408 and body["details"][0]["reason"] == "REQUEST_TIMEOUT", body
    for seconds, answer in half_body:
        assert LIMITS.body_timeout * 0.9 <= seconds < LIMITS.body_timeout + SLACK
        status, body = _status_and_body(answer)
        assert status == 408 and "body within 2s" in body["message"], body
    for seconds, answer in silent:  # nothing sent: closed without an answer
        assert seconds < LIMITS.header_timeout + SLACK and answer == b""


async def test_request_within_the_deadlines__is_served(limited: HttpServer) -> None:
    reader, writer = await _open(limited)
    try:
        # Sent in pieces, each well inside the deadlines: slow, but not too slow.
        for piece in (b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n", b"\r\n"):
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.3)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        assert head.startswith(b"HTTP/1.1 200 ")
    finally:
        writer.close()


async def test_connections_over_the_cap__are_answered_503_at_once(
    rest_api_sqlite: RestApi,
) -> None:
    server = HttpServer(
        create_app(rest_api_sqlite.grpc_address),
        "127.0.0.1:0",
        shutdown_grace=1,
        limits=HttpLimits(header_timeout=30, max_connections=5),
    )
    await server.start()
    held = [await _open(server) for _ in range(5)]
    try:
        began = time.monotonic()
        seconds, answer = await _slow_client(server, b"")
        assert seconds < SLACK, seconds
        status, body = _status_and_body(answer)
        assert status == 503 and body["details"][0]["reason"] == "TOO_MANY_CONNECTIONS"
        assert b"retry-after: 1" in answer.lower()
        for _, writer in held:
            writer.close()
        # Once connections close, new ones are served again.
        async with httpx.AsyncClient(base_url=f"http://{server.address}", timeout=10) as http:
            while True:
                response = await http.get("/healthz")
                if response.status_code == 200 or time.monotonic() - began > 20:
                    break
                await asyncio.sleep(0.1)
        assert response.status_code == 200
    finally:
        for _, writer in held:
            writer.close()
        await server.stop()


async def test_url_over_the_limit__is_414_with_a_json_body(limited: HttpServer) -> None:
    long_url = b"/v1/namespaces/default/runs?pageToken=" + b"a" * (LIMITS.max_url_bytes + 1)
    _, answer = await _slow_client(limited, b"GET " + long_url + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    status, body = _status_and_body(answer)
    assert status == 414
    assert body["details"][0] == {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "URI_TOO_LONG",
        "domain": "stepline",
        "metadata": {"limit_bytes": str(LIMITS.max_url_bytes)},
    }


async def test_unparsable_request__is_400_with_a_json_body(limited: HttpServer) -> None:
    _, answer = await _slow_client(limited, b"NOT HTTP AT ALL\r\n\r\n")
    status, body = _status_and_body(answer)
    assert status == 400 and body["code"] == 3
    assert body["details"][0]["reason"] == "INVALID_HTTP_REQUEST"


def test_server_flags__become_the_gateways_limits() -> None:
    args = cli._parser().parse_args(
        [
            "serve",
            *("--http-header-timeout", "3s", "--http-body-timeout", "500ms"),
            *("--http-max-connections", "7"),
        ]
    )
    assert http_limits(cli._config(args)) == HttpLimits(
        header_timeout=3.0, body_timeout=0.5, max_connections=7
    )
    assert http_limits(ServerConfig()) == HttpLimits()  # the same defaults on both sides
