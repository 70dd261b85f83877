"""A span per store operation: `run_claim`, `step_complete`, … on either backend.

SQLite runs each operation as one transaction on its writer thread and no
OpenTelemetry instrumentation covers it, so the operation span is all there is. On
PostgreSQL, OpenTelemetry's psycopg instrumentation adds a CLIENT span per statement
under it (with the statement text); the operation span names what the statements
were for. db.* attributes follow both the current and the stable conventions.

Only operations inside a traced call get a span: maintenance sweeps and pings, which
run every second with no caller, would otherwise each start a trace of their own.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, cast

from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from stepline import tracing
from storage import Store

# Store methods that are bookkeeping rather than operations on runs.
_UNTRACED = frozenset({"start", "close", "migrate", "ping", "run_fail_overdue", "wait_expire"})


def traced_operations(store: Store, system: str, namespace: str) -> Store:
    """`store` with a CLIENT span around each run and step operation.

    `system` is the semantic conventions' db.system ("sqlite", "postgresql");
    `namespace` the database (file path or database name).
    """
    return cast(Store, _TracedStore(store, system, namespace))


class _TracedStore:
    def __init__(self, inner: Store, system: str, namespace: str) -> None:
        self._inner = inner
        self._system = system
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if name.startswith("_") or name in _UNTRACED or not callable(found):
            return found
        traced = self._traced(name, found)
        setattr(self, name, traced)  # built once per method
        return traced

    def _traced(
        self, operation: str, method: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        attributes = {
            "db.system": self._system,
            "db.system.name": self._system,
            "db.name": self._namespace,
            "db.namespace": self._namespace,
            "db.operation": operation,
            "db.operation.name": operation,
        }

        @functools.wraps(method)
        async def call(*args: Any, **kwargs: Any) -> Any:
            if not _has_parent():
                return await method(*args, **kwargs)
            with tracing.tracer().start_as_current_span(
                f"{operation} {self._system}", kind=trace.SpanKind.CLIENT, attributes=attributes
            ):
                return await method(*args, **kwargs)

        return call


def _has_parent() -> bool:
    return is_instrumentation_enabled() and trace.get_current_span().get_span_context().is_valid
