"""The caller's W3C trace context, stored in a run's context under "trace".

Propagation is always on, exporter or not: StartWorkflow reads `traceparent` and
`tracestate` from the gRPC metadata (the REST gateway fills them from the HTTP
headers) so that the worker that runs the run can continue the caller's trace. A
malformed traceparent is ignored, never an error. When the server traces, the call's
own SERVER span (a child of the caller's) is stored instead, so the worker's run span
hangs under StartWorkflow in the trace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from stepline import tracing

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_MAX_TRACESTATE = 512
TRACE_KEY = tracing.TRACE_KEY


def valid_traceparent(value: str) -> bool:
    match = _TRACEPARENT.fullmatch(value)
    if match is None:
        return False
    version, trace_id, span_id, _flags = match.groups()
    return version != "ff" and trace_id != "0" * 32 and span_id != "0" * 16


def trace_context(metadata: Iterable[tuple[str, Any]] | None) -> dict[str, str] | None:
    """{"traceparent", ["tracestate"]} of the current span or the call's metadata, or None."""
    current = tracing.current_trace()
    if current is not None:
        return _capped(current)
    found = {key: value for key, value in metadata or () if key in ("traceparent", "tracestate")}
    traceparent = found.get("traceparent")
    if not isinstance(traceparent, str) or not valid_traceparent(traceparent.strip()):
        return None
    return _capped({"traceparent": traceparent.strip(), "tracestate": found.get("tracestate")})


def _capped(trace: dict[str, Any]) -> dict[str, str]:
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
