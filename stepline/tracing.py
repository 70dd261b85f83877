"""OpenTelemetry for stepline: set up from the standard OTEL_* variables only.

Tracing is on when the environment asks for an exporter: `OTEL_TRACES_EXPORTER`
names one (`otlp`, `console`), or an OTLP endpoint variable is set
(`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
`OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` keep it off. The OTLP
protocol is `http/protobuf` (the specification's default) or `grpc`, from
`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`; the exporters
read their own endpoint, header, timeout and TLS variables, the batch processor its
`OTEL_BSP_*`, the provider `OTEL_TRACES_SAMPLER` and the resource
`OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`.

With tracing off, stepline installs no instrumentation at all, so it costs nothing;
the W3C trace context still travels (propagation is always on).

The `stepline` and `stepline-server` commands call `configure_from_env`; a program
that runs a `Worker` or `Client` of its own either calls it too or sets up
OpenTelemetry itself: the SDK traces whenever a tracer provider is installed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

# Span attributes of our own, beside the semantic conventions' rpc.*, http.* and db.*.
NAMESPACE_ID = "stepline.namespace_id"
RUN_ID = "stepline.run_id"
WORKFLOW_NAME = "stepline.workflow_name"
STEP_ID = "stepline.step_id"
ATTEMPT = "stepline.attempt"
# On a worker's run span: why the execution ended (completed, failed, step failed,
# sleeping, canceled, lease lost, deadline exceeded, shutdown, cancelled, crashed).
END_REASON = "stepline.end_reason"
# On a sleep's span: when the run wakes up (RFC 3339).
WAKE_UP_AT = "stepline.wake_up_at"

# The key of a run's context that holds the W3C trace context of its caller.
TRACE_KEY = "trace"
# Inside it, for a replay: the trace contexts the run links to (the replayed run's).
LINKS_KEY = "links"

# The run a server handler or a worker is busy with, for log lines (trace_id and
# span_id come from the current span).
current_run_id: ContextVar[str | None] = ContextVar("stepline_run_id", default=None)

_EXPORTERS = ("otlp", "console")
_PROTOCOLS = ("http/protobuf", "grpc")
_W3C = TraceContextTextMapPropagator()


class TracingConfigError(ValueError):
    """An OTEL_* variable asks for something stepline cannot do."""


def tracer() -> trace.Tracer:
    return trace.get_tracer("stepline")


def active() -> bool:
    """Whether a tracer provider is installed, by `configure_from_env` or the program."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def configure_from_env(service_name: str) -> bool:
    """Install a tracer provider and exporters if the OTEL_* variables ask for one.

    Returns whether tracing is now on. Raises TracingConfigError for an exporter or
    protocol stepline does not ship, so a typo fails at startup, not silently.
    """
    env = os.environ
    exporters = requested_exporters(env)
    if not exporters:
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create(_default_resource(service_name, env)))
    for name in exporters:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name, env)))
    trace.set_tracer_provider(provider)
    return True


def shutdown() -> None:
    """Flush and stop the exporters (the provider also does so at exit)."""
    provider = trace.get_tracer_provider()
    stop = getattr(provider, "shutdown", None)
    if callable(stop):
        stop()


def requested_exporters(env: Mapping[str, str]) -> list[str]:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",")]
    names = [n for n in names if n]
    if not names:
        endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        return ["otlp"] if any(env.get(name) for name in endpoints) else []
    if names == ["none"]:
        return []
    unknown = [n for n in names if n not in _EXPORTERS]
    if unknown:
        raise TracingConfigError(
            f"OTEL_TRACES_EXPORTER={','.join(unknown)} is not supported; "
            f"use {', '.join(_EXPORTERS)} or none"
        )
    return names


def _default_resource(service_name: str, env: Mapping[str, str]) -> dict[str, Any]:
    # Resource.create lets our attributes win over OTEL_RESOURCE_ATTRIBUTES, so the
    # default service name is given only when the environment names none.
    named = env.get("OTEL_SERVICE_NAME") or "service.name=" in env.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    return {} if named else {"service.name": service_name}


def _exporter(name: str, env: Mapping[str, str]) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )

        return HttpSpanExporter()
    raise TracingConfigError(
        f"OTLP protocol {protocol!r} is not supported; use {' or '.join(_PROTOCOLS)}"
    )


def current_trace(context: otel_context.Context | None = None) -> dict[str, str] | None:
    """The W3C context of the current span (or of `context`'s) as {"traceparent",
    ["tracestate"]}, or None."""
    if not trace.get_current_span(context).get_span_context().is_valid:
        return None  # the common case with tracing off: no dict, no formatting
    carrier: dict[str, str] = {}
    _W3C.inject(carrier, context=context)
    return carrier if "traceparent" in carrier else None


def continued(run_context: Mapping[str, Any] | None) -> otel_context.Context:
    """A context whose parent is the trace stored in a run's context, if it is valid.

    A missing or malformed traceparent gives an empty context (a new trace), never an
    error.
    """
    stored = (run_context or {}).get(TRACE_KEY)
    if not isinstance(stored, Mapping):
        return otel_context.Context()
    return extracted(stored)


def linked(run_context: Mapping[str, Any] | None) -> list[trace.SpanContext]:
    """The valid span contexts a run's stored trace links to: a replay links to the trace
    of the run it replays. Malformed entries are left out, never an error."""
    stored = (run_context or {}).get(TRACE_KEY)
    links = stored.get(LINKS_KEY) if isinstance(stored, Mapping) else None
    if not isinstance(links, list):
        return []
    found = []
    for link in links:
        if isinstance(link, Mapping):
            span = trace.get_current_span(extracted(link)).get_span_context()
            if span.is_valid:
                found.append(span)
    return found


def extracted(carrier: Mapping[str, Any]) -> otel_context.Context:
    """A context parented on the W3C `traceparent`/`tracestate` in `carrier`, if valid."""
    found = {k: v for k, v in carrier.items() if k in ("traceparent", "tracestate")}
    if not all(isinstance(v, str) for v in found.values()):
        return otel_context.Context()
    return _W3C.extract(found, context=otel_context.Context())
