"""A TCP proxy on a loopback port for fault tests: a client connects to it as to the
server. It can lose the server's answers (`lose_answers`: bytes from the server are
dropped, so a call is handled and committed but never answered), drop every connection
(`cut`, as a server that died), and wait for a server to come back (`retarget`): while
it has none, new connections are held until it has one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

_CHUNK = 65536


class Proxy:
    def __init__(self, upstream: str) -> None:
        self._upstream: str | None = upstream
        self._has_upstream = asyncio.Event()
        self._has_upstream.set()
        self._losing = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.address = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.address = f"127.0.0.1:{port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def lose_answers(self) -> None:
        """From now on, whatever the server sends is dropped on the way."""
        self._losing = True

    def cut(self) -> None:
        """Close every connection at once; new ones wait for `retarget`."""
        self._upstream = None
        self._has_upstream.clear()
        self._losing = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def retarget(self, upstream: str) -> None:
        """Forward to the server at `upstream` from now on."""
        self._upstream = upstream
        self._has_upstream.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            async with self._connected() as (up_reader, up_writer):
                self._writers.add(up_writer)
                await asyncio.gather(
                    self._pipe(reader, up_writer, lose=False),
                    self._pipe(up_reader, writer, lose=True),
                )
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()
            self._writers.discard(writer)
            self._tasks.discard(task)

    @contextlib.asynccontextmanager
    async def _connected(
        self,
    ) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        await self._has_upstream.wait()
        assert self._upstream is not None
        host, port = self._upstream.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        try:
            yield up_reader, up_writer
        finally:
            up_writer.transport.abort()
            self._writers.discard(up_writer)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, lose: bool
    ) -> None:
        while data := await reader.read(_CHUNK):
            if lose and self._losing:
                continue
            writer.write(data)
            await writer.drain()
        writer.transport.abort()
