"""The transcoding handler: route, build the request, call the core, answer in JSON.

Routes are built once from the descriptors; each request costs one route lookup, one
request build, one unary gRPC call on the shared channel and one JSON rendering. The
handler speaks raw ASGI (no Request/Response objects) because it is the hot path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from starlette.types import Receive, Scope, Send

from gateway.errors import (
    WWW_AUTHENTICATE,
    GatewayError,
    error_body,
    error_info,
    from_rpc_error,
)
from gateway.http_rule import HttpBinding, bindings_for
from gateway.metadata import Metadata, incoming, outgoing
from gateway.router import Router
from gateway.tracing import name_request_span, upstream_interceptors
from gateway.transcode import RequestBuilder, ResponseWriter
from stepline import tracing
from stepline.tls import TLSConfig, channel

log = logging.getLogger(__name__)

_JSON = (b"content-type", b"application/json")
_CHANNEL_OPTIONS = [
    # Responses may list up to 1000 runs with their payloads.
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    ("grpc.max_send_message_length", 256 * 1024 * 1024),
    # Calls fail fast (503) while the core is down; reconnect soon after it is back
    # rather than after gRPC's default backoff of up to two minutes.
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 5000),
]


@dataclass(frozen=True, slots=True)
class Route:
    binding: HttpBinding
    builder: RequestBuilder
    writer: ResponseWriter
    rpc_path: str  # "/stepline.v1.WorkflowService/StartWorkflow"
    response_class: type[Message]

    @classmethod
    def of(cls, binding: HttpBinding) -> Route:
        method = binding.method
        return cls(
            binding=binding,
            builder=RequestBuilder(binding),
            writer=ResponseWriter(binding),
            rpc_path=f"/{method.containing_service.full_name}/{method.name}",
            response_class=message_factory.GetMessageClass(method.output_type),
        )


class _ClientGone(Exception):
    """The HTTP client disconnected before the answer was ready."""


class Gateway:
    """The REST->gRPC proxy for a set of services. `open()` before use, `close()` after."""

    def __init__(
        self,
        backend: str,
        services: Sequence[ServiceDescriptor],
        *,
        default_timeout: float | None,
        max_body_bytes: int,
        backend_tls: TLSConfig | None = None,
    ) -> None:
        self.backend = backend
        self.backend_tls = backend_tls
        self.bindings = [binding for service in services for binding in bindings_for(service)]
        self.router = Router([Route.of(binding) for binding in self.bindings])
        self.default_timeout = default_timeout
        self.max_body_bytes = max_body_bytes
        self._channel: grpc.aio.Channel | None = None
        self._calls: dict[str, grpc.aio.UnaryUnaryMultiCallable[Any, Any]] = {}
        self._forward_trace = True

    @property
    def forward_trace(self) -> bool:
        """Whether calls forward the client's trace headers (False while the gateway
        traces: its own span's context goes instead)."""
        return self._forward_trace

    @property
    def channel(self) -> grpc.aio.Channel:
        assert self._channel is not None, "Gateway.open() first"
        return self._channel

    async def open(self) -> None:
        self._channel = channel(
            self.backend,
            self.backend_tls,
            options=_CHANNEL_OPTIONS,
            interceptors=upstream_interceptors(),
        )
        # The interceptor sends the request span's context; raw trace headers would clash.
        self._forward_trace = not tracing.active()
        for route in self.router.routes:
            self._calls[route.rpc_path] = self._channel.unary_unary(
                route.rpc_path,
                request_serializer=route.builder.message_class.SerializeToString,
                response_deserializer=route.response_class.FromString,
            )

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close(grace=None)
            self._channel = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._handle(scope, receive, send)
        except _ClientGone:
            return
        except GatewayError as exc:
            await _send_error(send, exc)
        except Exception:
            # A bug here: log it, and answer the client without the details.
            log.exception("REST gateway failed on %s %s", scope["method"], scope["path"])
            await _send(send, 500, internal_error_body())

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.router.find(scope["method"], _raw_path(scope))
        name_request_span(scope["method"], found.route.binding.template.raw)
        body = await _read_body(receive, self.max_body_bytes)
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        request = found.route.builder.build(
            found.path_values, scope.get("query_string", b""), body, _content_type(headers)
        )
        metadata, timeout = outgoing(headers, self.default_timeout, self._forward_trace)
        await self._forward(found.route, request, metadata, timeout, receive, send)

    async def _forward(
        self,
        route: Route,
        request: Message,
        metadata: Metadata,
        deadline: float | None,
        receive: Receive,
        send: Send,
    ) -> None:
        call = self._calls[route.rpc_path](request, metadata=metadata, timeout=deadline)
        watcher = asyncio.create_task(_cancel_on_disconnect(receive, call))
        try:
            response = await call
            payload = route.writer.render(response)
            extra = incoming(await call.initial_metadata(), await call.trailing_metadata())
            status = 200
        except grpc.aio.AioRpcError as error:
            status, payload = from_rpc_error(error, self.backend)
            extra = incoming(error.initial_metadata(), error.trailing_metadata())
            if status == 401:
                extra.append((b"www-authenticate", WWW_AUTHENTICATE.encode()))
        except asyncio.CancelledError:
            if _disconnected(watcher):
                return  # the client went away and the call was cancelled: nobody to answer
            raise
        finally:
            watcher.cancel()
        await _send(send, status, payload, extra)


async def _cancel_on_disconnect(receive: Receive, call: grpc.aio.Call) -> bool:
    """Wait for the client to disconnect, then cancel the upstream call."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            call.cancel()
            return True


def _disconnected(watcher: asyncio.Task[bool]) -> bool:
    return watcher.done() and not watcher.cancelled() and watcher.result()


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise GatewayError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "PAYLOAD_TOO_LARGE",
                f"the request body is over {limit} bytes",
                http_status=413,
                metadata={"limit": str(limit)},
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _raw_path(scope: Scope) -> str:
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        path: str = scope["path"]
        return path
    return raw.decode("latin-1").split("?", 1)[0]


def _content_type(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"content-type":
            return value.decode("latin-1")
    return None


async def _send(
    send: Send, status: int, payload: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [_JSON, (b"content-length", str(len(payload)).encode()), *(extra or ())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _send_error(send: Send, error: GatewayError) -> None:
    extra = []
    if error.http_status == 405:
        extra.append((b"allow", error.metadata["allow"].encode()))
    await _send(send, error.http_status, error.body(), extra)


def internal_error_body() -> bytes:
    """The body for a bug in the gateway itself; the details stay in the log."""
    return error_body(
        grpc.StatusCode.INTERNAL.value[0], "internal gateway error", [error_info("INTERNAL", {})]
    )
