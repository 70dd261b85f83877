"""An idle keep-alive connection outlives the clients' own idle limits (httpx: 5 s), so a
client never sends a request on a connection the gateway is closing."""

from __future__ import annotations

import asyncio

import pytest

from tests.gateway.conftest import RestApi

_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: stepline\r\n\r\n"


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(_REQUEST)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return head.split(b"\r\n", 1)[0]


@pytest.mark.slow
async def test_idle_connection__still_serves_after_six_seconds(rest_api_sqlite: RestApi) -> None:
    host, port = rest_api_sqlite.gateway.address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        assert await _exchange(reader, writer) == b"HTTP/1.1 200 OK"
        await asyncio.sleep(6)  # past uvicorn's default keep-alive (5 s) and httpx's
        assert await _exchange(reader, writer) == b"HTTP/1.1 200 OK"
    finally:
        writer.close()
        await writer.wait_closed()
