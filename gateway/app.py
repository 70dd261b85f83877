"""The Starlette application: health, readiness, the OpenAPI document and its docs page,
Prometheus metrics when the core runs in this process, and every transcoded route. One
grpc.aio channel to the core, opened by the lifespan."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from importlib import metadata as package_metadata
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.applications import Starlette
from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from gateway.docs import docs_routes
from gateway.errors import GatewayError, error_headers, from_rpc_error
from gateway.openapi import build_openapi
from gateway.openapi_workflows import namespaced_openapi
from gateway.proxy import Gateway
from gateway.services import REST_SERVICES
from gateway.ui import ui_routes
from stepline.tls import TLSConfig

OPENAPI_URL = "/openapi.json"
METRICS_URL = "/metrics"
_JSON = "application/json"

MetricsSource = Callable[[str | None], Awaitable[bytes]]
"""Renders the Prometheus text exposition (format 0.0.4) of the core in this process,
given the scrape's Authorization header (None without one); raises GatewayError to
refuse the scrape (--metrics-auth)."""


class _TranscodingRoute(BaseRoute):
    """The last route: every request the fixed routes did not take goes to the gateway,
    which answers 404/405 in the JSON error format itself."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return (Match.FULL, {}) if scope["type"] == "http" else (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.gateway(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)


def create_app(
    backend: str,
    *,
    default_timeout: float | None = 30.0,
    services: Sequence[ServiceDescriptor] = REST_SERVICES,
    ready_timeout: float = 2.0,
    max_body_bytes: int = 16 * 1024 * 1024,
    metrics: MetricsSource | None = None,
    trace_url_template: str = "",
    backend_tls: TLSConfig | None = None,
) -> Starlette:
    """The REST gateway for `services`, forwarding to the gRPC core at `backend`.
    With `metrics`, GET /metrics serves them; without (a gateway on its own, which has
    no store and serves no calls itself), /metrics is not a route and answers 404.
    With `backend_tls`, the channel to the core is TLS (with a client certificate if
    the config names one). `trace_url_template` (with `{trace_id}`) makes the
    dashboard's "view trace" links."""
    gateway = Gateway(
        backend,
        services,
        default_timeout=default_timeout,
        max_body_bytes=max_body_bytes,
        backend_tls=backend_tls,
    )
    document = build_openapi(gateway.bindings, title="stepline", version=_version())
    openapi_body = json.dumps(document, ensure_ascii=False).encode()

    async def healthz(_: Request) -> Response:
        return Response(b'{"status":"SERVING"}', media_type=_JSON)

    async def readyz(_: Request) -> Response:
        return await _readiness(gateway, ready_timeout)

    async def openapi(request: Request) -> Response:
        if "namespace" in request.query_params:
            return await namespaced_openapi(gateway, openapi_body, request)
        return Response(openapi_body, media_type=_JSON)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await gateway.open()
        try:
            yield
        finally:
            await gateway.close()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route(OPENAPI_URL, openapi, methods=["GET"]),
        *docs_routes(OPENAPI_URL),
        *ui_routes(trace_url_template),
        *_metrics_routes(metrics),
        _TranscodingRoute(gateway),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    return app


def _metrics_routes(metrics: MetricsSource | None) -> list[BaseRoute]:
    if metrics is None:
        return []

    async def scrape(request: Request) -> Response:
        try:
            body = await metrics(request.headers.get("authorization"))
        except GatewayError as error:
            return Response(
                error.body(), error.http_status, headers=error_headers(error), media_type=_JSON
            )
        return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)

    return [Route(METRICS_URL, scrape, methods=["GET"])]


async def _readiness(gateway: Gateway, wait: float) -> Response:
    """200 when the core answers SERVING: it is up and its storage answers pings."""
    stub = health_pb2_grpc.HealthStub(gateway.channel)
    try:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=wait)
    except grpc.aio.AioRpcError as error:
        _, body = from_rpc_error(error, gateway.backend)
        return Response(body, status_code=503, media_type=_JSON)
    if reply.status == health_pb2.HealthCheckResponse.SERVING:
        return Response(b'{"status":"SERVING"}', media_type=_JSON)
    not_serving = GatewayError(
        grpc.StatusCode.UNAVAILABLE,
        "NOT_SERVING",
        f"the stepline core at {gateway.backend} is not serving "
        "(its storage is unreachable, or it is shutting down)",
        metadata={"backend": gateway.backend},
    )
    return Response(not_serving.body(), status_code=503, media_type=_JSON)


def _version() -> str:
    try:
        return package_metadata.version("stepline")
    except package_metadata.PackageNotFoundError:
        return "0.0.0"
