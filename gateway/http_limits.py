"""Limits on what a client may hold of the HTTP server: time to send a request, open
connections, the length of a URL; and JSON error bodies where uvicorn answers plain text.

uvicorn bounds only the idle time between requests (`timeout_keep_alive`): a client that
sends half a request line, or headers and half a body, holds its connection (and a file
descriptor) for ever. `GuardedHttpProtocol` is uvicorn's httptools protocol with:

- a header deadline: a request's headers must be complete `header_timeout` seconds after
  its first byte (a new connection must begin its first request within that time, or it
  is closed without an answer, as an idle keep-alive connection is);
- a body deadline: the body must be complete `body_timeout` seconds after the headers;
- past either deadline, `408 Request Timeout` with `Connection: close` (RFC 9110 §15.5.9)
  when no response has begun, then the connection is closed;
- at most `max_connections` open connections per process: one more is answered `503`
  with `Connection: close` and `Retry-After` at once, and closed;
- a URL over `max_url_bytes` is `414 URI Too Long`; any request httptools cannot parse
  is a `400` with the gateway's JSON error body.
"""

from __future__ import annotations

import asyncio
import http
from dataclasses import dataclass
from typing import Any

import grpc
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from gateway.errors import error_body, error_info


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """The defaults suit an API of small JSON bodies behind no proxy, or behind one."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 1000
    max_url_bytes: int = 16 * 1024

    def __post_init__(self) -> None:
        if self.header_timeout <= 0 or self.body_timeout <= 0:
            raise ValueError("HTTP header and body timeouts must be positive")
        if self.max_connections < 1:
            raise ValueError("HTTP max connections must be at least 1")


def protocol_class(limits: HttpLimits) -> type[asyncio.Protocol]:
    """uvicorn's `http=` protocol class for these limits."""

    class Limited(GuardedHttpProtocol):
        pass

    Limited.limits = limits
    return Limited


class GuardedHttpProtocol(HttpToolsProtocol):
    limits = HttpLimits()

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._deadline: asyncio.TimerHandle | None = None
        self._url_bytes = 0

    # --- the connection -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            body = _error(
                grpc.StatusCode.UNAVAILABLE,
                "TOO_MANY_CONNECTIONS",
                f"this server holds its limit of {self.limits.max_connections} open HTTP "
                "connections; try again shortly",
            )
            self._answer_and_close(503, body, [(b"retry-after", b"1")])
            return
        self._arm(self.limits.header_timeout, answer=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # --- parser callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._url_bytes = 0
        self._arm(self.limits.header_timeout, answer=True)

    def on_url(self, url: bytes) -> None:
        self._url_bytes += len(url)
        if self._url_bytes > self.limits.max_url_bytes:
            limit = self.limits.max_url_bytes
            body = _error(
                grpc.StatusCode.INVALID_ARGUMENT,
                "URI_TOO_LONG",
                f"the request URL is over the {limit}-byte limit",
                {"limit_bytes": str(limit)},
            )
            self._answer_and_close(414, body)
            # Stop parsing: httptools raises HttpParserCallbackError, which uvicorn answers
            # with send_400_response, a no-op here as the connection is closing.
            raise _Refused
        super().on_url(url)

    def on_headers_complete(self) -> None:
        self._arm(self.limits.body_timeout, answer=True)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return  # refused or timed out: the rest of what it sends is not read
        super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            self._disarm()

    def send_400_response(self, msg: str) -> None:
        """A request httptools cannot parse (uvicorn answers it in plain text)."""
        if self.transport.is_closing():
            return  # already answered (a URL over the limit stops the parser this way)
        body = _error(
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_HTTP_REQUEST",
            "the request is not valid HTTP/1.1 (its request line or headers cannot be parsed)",
        )
        self._answer_and_close(400, body)

    # --- deadlines ----------------------------------------------------------------------

    def _arm(self, seconds: float, *, answer: bool) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, answer)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, answer: bool) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        responding = cycle is not None and not cycle.response_complete and cycle.response_started
        if not answer or responding:
            self.transport.close()
            return
        if cycle is not None and not cycle.response_complete:
            # The app waits for the rest of the body: it is told the client went away,
            # and anything it sends from now on is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
        body = _error(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            "REQUEST_TIMEOUT",
            "the request was not received in time (headers within "
            f"{self.limits.header_timeout:g}s, body within {self.limits.body_timeout:g}s)",
        )
        self._answer_and_close(408, body)

    def _answer_and_close(
        self, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        self._disarm()
        phrase = http.HTTPStatus(status).phrase
        lines = [
            f"HTTP/1.1 {status} {phrase}".encode(),
            b"content-type: application/json",
            b"content-length: " + str(len(body)).encode(),
            b"connection: close",
            *(name + b": " + value for name, value in extra or ()),
        ]
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        self.transport.close()


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a refused request."""


def _error(
    code: grpc.StatusCode, reason: str, message: str, metadata: dict[str, str] | None = None
) -> bytes:
    return error_body(code.value[0], message, [error_info(reason, metadata or {})])
