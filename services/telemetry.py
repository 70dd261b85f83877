"""The server's tracing: gRPC server spans with stepline's own attributes, and quiet polls.

Installed only when tracing is on (`stepline.tracing.active()`), or, for the run id in
log lines alone, when the logs are JSON or at DEBUG; otherwise the server has no
interceptor.

- OpenTelemetry's gRPC server interceptor makes a SERVER span per call, with the
  semantic conventions' rpc.* attributes, parented on the caller's `traceparent`.
- `RunAttributes` adds `stepline.namespace_id`, `stepline.run_id`,
  `stepline.workflow_name`, `stepline.step_id` and `stepline.attempt` from the request
  (a worker call's run from its `lease`) and the run in the response, sets
  `stepline.tracing.current_run_id` for log lines, and logs each handled call at DEBUG.
- Long polls (PollActivity), health checks and reflection make no spans at all, nor
  do the store queries they run: an idle worker would otherwise start a new trace
  every poll. Their cost is in the metrics (long-poll wait, claim latency).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import grpc
from google.protobuf.message import Message
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.instrumentation.grpc.filters import any_of, method_name, negate, service_prefix
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.store_spans import traced_operations
from stepline import tracing
from storage import Store
from storage.sqlite import SqliteStore

log = logging.getLogger(__name__)

_STEPLINE = "/stepline.v1."
# A worker stream lives as long as its worker: one span for it would say nothing.
_UNTRACED_METHODS = ("PollActivity", "WorkStream")
_REQUEST_FIELDS = {
    "namespace_id": tracing.NAMESPACE_ID,
    "run_id": tracing.RUN_ID,
    "workflow_name": tracing.WORKFLOW_NAME,
    "step_id": tracing.STEP_ID,
}
# Worker calls name their run inside the RunLease they send back.
_LEASE = "lease"

Behavior = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


def server_interceptors(log_run_ids: bool) -> list[Any]:
    """The interceptors to give grpc.aio.server(): none with tracing off, unless log lines
    are to name their runs."""
    if tracing.active():
        return [aio_server_interceptor(filter_=_traced_call()), RunAttributes()]  # type: ignore[no-untyped-call]
    return [RunAttributes()] if log_run_ids else []


def instrument_store(store: Store) -> Store:
    """With tracing on: a span per store operation; on PostgreSQL one per statement too."""
    if not tracing.active():
        return store
    if isinstance(store, SqliteStore):
        return traced_operations(store, "sqlite", str(store.path))
    # Patches psycopg's connect (once per process): the pool's connections, opened
    # by store.start(), then trace each statement.
    PsycopgInstrumentor().instrument(enable_commenter=False)
    database = urlsplit(store.url_for_display).path.lstrip("/")
    return traced_operations(store, "postgresql", database)


def _traced_call() -> Any:
    untraced = [method_name(name) for name in _UNTRACED_METHODS]
    return negate(any_of(service_prefix("grpc."), *untraced))


def traced_method(method: str) -> bool:
    """Whether a full method name ("/pkg.Service/Method") gets spans."""
    return method.startswith(_STEPLINE) and method.rsplit("/", 1)[-1] not in _UNTRACED_METHODS


class RunAttributes(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Tag each stepline call's span (and log lines) with the run it is about."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        if traced_method(method):
            wrap = _annotated
        elif method.startswith(_STEPLINE) or method.startswith("/grpc."):
            wrap = _quiet
        else:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            wrap(method, handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _annotated(method: str, behavior: Behavior) -> Behavior:
    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        span = trace.get_current_span()
        caller = None
        if not span.get_span_context().is_valid:
            # Not tracing (JSON logs only): the caller's trace still names the log lines.
            metadata = dict(context.invocation_metadata() or ())
            caller = otel_context.attach(tracing.extracted(metadata))
        attributes = _request_attributes(request)
        token = tracing.current_run_id.set(attributes.get(tracing.RUN_ID))
        try:
            response = await behavior(request, context)
            attributes.update(_response_attributes(response))
            if log.isEnabledFor(logging.DEBUG):
                _log_handled(method, attributes)
            return response
        finally:
            tracing.current_run_id.reset(token)
            if caller is not None:
                otel_context.detach(caller)
            if span.is_recording():
                span.set_attributes(attributes)

    return call


def _log_handled(method: str, attributes: dict[str, Any]) -> None:
    run_id = attributes.get(tracing.RUN_ID)
    # A run created by this call: its id is known only now.
    token = tracing.current_run_id.set(run_id) if run_id else None
    try:
        log.debug("%s handled", method.rsplit("/", 1)[-1])
    finally:
        if token is not None:
            tracing.current_run_id.reset(token)


def _quiet(method: str, behavior: Behavior) -> Behavior:
    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        with suppress_instrumentation():
            return await behavior(request, context)

    return call


def _request_attributes(request: Message) -> dict[str, Any]:
    attributes = _named_fields(request)
    if _LEASE in request.DESCRIPTOR.fields_by_name:
        attributes.update(_named_fields(getattr(request, _LEASE)))
    return attributes


def _named_fields(message: Message) -> dict[str, Any]:
    return {
        attribute: value
        for field, attribute in _present_fields(type(message))
        if (value := getattr(message, field))
    }


def _response_attributes(response: Message) -> dict[str, Any]:
    if "run" not in response.DESCRIPTOR.fields_by_name or not response.HasField("run"):
        return {}
    run = response.run  # type: ignore[attr-defined]
    return {
        tracing.NAMESPACE_ID: run.namespace_id,
        tracing.RUN_ID: run.run_id,
        tracing.WORKFLOW_NAME: run.workflow_name,
        tracing.ATTEMPT: run.attempt,
    }


def _present_fields(message_type: type[Message]) -> tuple[tuple[str, str], ...]:
    found = _FIELDS_BY_TYPE.get(message_type)
    if found is None:
        names = message_type.DESCRIPTOR.fields_by_name
        found = tuple((field, attr) for field, attr in _REQUEST_FIELDS.items() if field in names)
        _FIELDS_BY_TYPE[message_type] = found
    return found


_FIELDS_BY_TYPE: dict[type[Message], tuple[tuple[str, str], ...]] = {}
