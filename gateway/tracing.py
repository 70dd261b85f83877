"""The gateway's spans: a SERVER span per HTTP request, parenting the upstream gRPC call.

With tracing on (`stepline.tracing.active()`), OpenTelemetry's ASGI middleware opens a
SERVER span per request from the client's `traceparent` (http.* attributes, named
`METHOD /route/{template}` once the route is known), and the gRPC client interceptor
makes the upstream call a CLIENT span under it and sends that span's context on. The
gateway then stops forwarding trace headers itself. With tracing off nothing is
installed and the trace headers pass through untouched (propagation is always on).
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from opentelemetry.instrumentation.grpc.filters import negate, service_prefix
from starlette.types import ASGIApp

from stepline import tracing

# Probes, scrapes and documentation are not worth a trace each.
_UNTRACED_PATHS = "/healthz$,/readyz$,/metrics$,/openapi.json$,/docs"


def traced_app(app: ASGIApp) -> ASGIApp:
    if not tracing.active():
        return app
    return OpenTelemetryMiddleware(
        app, excluded_urls=_UNTRACED_PATHS, exclude_spans=["receive", "send"]
    )


def upstream_interceptors() -> list[Any]:
    """The gRPC client interceptors for the gateway's channel: none with tracing off."""
    if not tracing.active():
        return []
    # /readyz asks the core's gRPC health service: a probe is not worth a trace.
    interceptors: list[Any] = aio_client_interceptors(filter_=negate(service_prefix("grpc.")))  # type: ignore[no-untyped-call]
    return interceptors


def name_request_span(method: str, route: str) -> None:
    """Name the request's span after its route, as the HTTP conventions ask."""
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
