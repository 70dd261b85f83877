"""Run the gateway on uvicorn inside an event loop that is already running.

The process (stepline-server) owns the signal handlers: uvicorn's own `serve()`
replaces SIGINT/SIGTERM handlers and re-raises the signal afterwards, so it is told
not to; the owner calls `stop()` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

from gateway.tracing import traced_app


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the process that embeds us handles signals


def split_address(address: str) -> tuple[str, int]:
    """("host", port) for "host:port" or "[v6]:port"; raises ValueError."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"not a host:port address: {address!r}")
    return host.strip("[]"), int(port)


class HttpServer:
    """uvicorn serving `app` on `address`. `start()`, then `stop()`; `address` is bound."""

    def __init__(
        self,
        app: ASGIApp,
        address: str,
        *,
        shutdown_grace: float = 10.0,
        reuse_port: bool = False,
        tls_cert: str = "",
        tls_key: str = "",
    ) -> None:
        self._app = traced_app(app)
        self._tls = (tls_cert, tls_key)
        self._reuse_port = reuse_port
        self._host, self._port = split_address(address)
        self._grace = shutdown_grace
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def scheme(self) -> str:
        return "https" if self._tls[0] else "http"

    @property
    def address(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self.port}"

    async def start(self) -> None:
        """Bind (OSError if the address is taken), run the lifespan, start serving."""
        sock = _bind(self._host, self._port, self._reuse_port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_config=None,
            access_log=False,
            # Keep idle connections longer than clients and load balancers do (httpx 5 s,
            # typical balancers 60 s): the side that closes first must be the client, or a
            # request sent on a connection the server is closing fails (a 502 behind a
            # balancer; a ReadError for httpx). uvicorn's default is 5 s.
            timeout_keep_alive=75,
            log_level="warning",  # the embedding process prints its own banner
            lifespan="on",
            timeout_graceful_shutdown=int(self._grace) or 1,
            ssl_certfile=self._tls[0] or None,
            ssl_keyfile=self._tls[1] or None,
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="stepline-http")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises the start-up failure
                raise RuntimeError("the HTTP server stopped during start-up")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop accepting, finish requests in flight (up to the grace), close the channel."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = None
        self._task = None


def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that name their
    # protocol. Without it every response waits ~40 ms for the client's delayed ACK
    # (Nagle), since headers and body go out in two writes.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:  # several processes listen on the port; the kernel spreads connections
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock
