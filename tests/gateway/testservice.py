"""A test-only gRPC servicer for gatewaytest.v1.Testing on a loopback port: Echo answers
the request metadata and sends metadata back; Wait sleeps and records a cancellation."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import grpc

from tests.gateway import protos


class EchoServicer:
    def __init__(self) -> None:
        self.waiting = asyncio.Event()
        self.cancelled = asyncio.Event()
        self._response = protos.message_class("EchoResponse")

    async def echo(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        received = {
            key: value if isinstance(value, str) else "base64:" + base64.b64encode(value).decode()
            for key, value in context.invocation_metadata() or ()
        }
        await context.send_initial_metadata((("x-echo", request.text),))
        context.set_trailing_metadata((("x-trailer", "done"), ("x-raw-bin", b"\x00\xff")))
        return self._response(text=request.text, metadata=received)

    async def wait(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        self.waiting.set()
        try:
            await asyncio.sleep(request.sleep_seconds)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return self._response(text=request.text)


async def start_testing_server() -> tuple[grpc.aio.Server, str, EchoServicer]:
    servicer = EchoServicer()
    request = protos.message_class("EchoRequest")
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            method,
            request_deserializer=request.FromString,
            response_serializer=lambda message: message.SerializeToString(),
        )
        for name, method in (("Echo", servicer.echo), ("Wait", servicer.wait))
    }
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("gatewaytest.v1.Testing", handlers),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}", servicer
