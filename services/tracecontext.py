"""The caller's W3C trace context, stored in a run's context under "trace".

Propagation is always on, exporter or not: StartWorkflow reads `traceparent` and
`tracestate` from the gRPC metadata (the REST gateway fills them from the HTTP
headers) so that the worker that runs the run can continue the caller's trace. A
malformed traceparent is ignored, never an error. When the server traces, the call's
own SERVER span (a child of the caller's) is stored instead, so the worker's run span
hangs under StartWorkflow in the trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stepline import tracing

_MAX_TRACESTATE = 512
_W3C_KEYS = ("traceparent", "tracestate")
TRACE_KEY = tracing.TRACE_KEY


def trace_context(metadata: Iterable[tuple[str, Any]] | None) -> dict[str, str] | None:
    """{"traceparent", ["tracestate"]} of the current span (when the server traces) or
    of the call's metadata, or None. OpenTelemetry's W3C propagator validates both."""
    found = tracing.current_trace()
    if found is None:
        sent = {key: value for key, value in metadata or () if key in _W3C_KEYS}
        found = tracing.current_trace(tracing.extracted(sent)) if "traceparent" in sent else None
    return None if found is None else _capped(found)


def _capped(trace: dict[str, str]) -> dict[str, str]:
    """The traceparent, and the tracestate when it is a string of sane length."""
    kept = {"traceparent": trace["traceparent"]}
    tracestate = trace.get("tracestate")
    if isinstance(tracestate, str) and tracestate and len(tracestate) <= _MAX_TRACESTATE:
        kept["tracestate"] = tracestate
    return kept


def with_trace(
    context: dict[str, Any] | None, trace: dict[str, str] | None
) -> dict[str, Any] | None:
    """The caller's context keys, plus "trace" when the call carried a trace context."""
    if trace is None:
        return context
    return {**(context or {}), TRACE_KEY: trace}
