"""A minimal keep-alive HTTP/1.1 client on asyncio streams, for the REST benchmark.

httpx costs about 1-2 ms of client CPU per request on this kind of machine — more than
the gateway itself — so the benchmark also times REST through this client, whose cost
is close to that of curl or a Go client: one write per request, one read of the
headers, one of the body. It handles what the gateway sends (a Content-Length body)
and nothing else; it is not a general HTTP client.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class CallFailed(RuntimeError):
    """A benchmarked call did not succeed (here: a response that is not a readable 200),
    so the figures would be meaningless."""


class RawHttp:
    """Keep-alive connections to one host:port, reused last-in first-out."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self._host, self._port = host, int(port)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def close(self) -> None:
        while self._idle:
            _, writer = self._idle.pop()
            writer.close()
            await writer.wait_closed()

    async def get(self, path: str) -> bytes:
        return await self._exchange(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())

    async def post(self, path: str, body: Any) -> bytes:
        data = json.dumps(body, separators=(",", ":")).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        return await self._exchange(head.encode() + data)

    async def _exchange(self, request: bytes) -> bytes:
        reused = bool(self._idle)
        reader, writer = self._idle.pop() if reused else await self._connect()
        try:
            body = await _round_trip(reader, writer, request)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            if not reused:
                raise
            # The server closed an idle keep-alive connection: once more on a new one.
            reader, writer = await self._connect()
            body = await _round_trip(reader, writer, request)
        self._idle.append((reader, writer))
        return body

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self._host, self._port)


async def _round_trip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> bytes:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines if ": " in line)
    if "content-length" not in headers:
        raise CallFailed(f"no Content-Length in the response: {status_line}")
    body = await reader.readexactly(int(headers["content-length"]))
    if status_line.split(" ")[1] != "200":
        raise CallFailed(f"{status_line}: {body[:300]!r}")
    return body
