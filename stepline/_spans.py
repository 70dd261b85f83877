"""The SDK's OpenTelemetry spans: client interceptors on its gRPC channels, one span per
run attempt (an execution) continuing the trace stored in the run's context, and one
span per step run in it.

Spans come from `stepline.tracing.tracer()`. With no tracer provider installed they are
non-recording and only carry the stored trace context, so nothing is exported, yet a
run's log lines still show its caller's trace_id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, cast

import grpc
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from stepline import tracing
from stepline._convert import to_python
from stepline.v1 import workflow_run_pb2 as wr

# The ends that are failures of the run attempt; the others are recorded in tracing.END_REASON
# only, since parking, losing the lease or being canceled is not an error of the code.
_FAILED_ENDS = frozenset({"failed", "step failed", "deadline exceeded", "crashed"})
# A long poll would make a root trace every few seconds, all of them empty; a worker's
# registration (at start and every reconnection) is bookkeeping of no run's trace either.
_UNTRACED_METHODS = (
    "/stepline.v1.WorkerService/PollActivity",
    "/stepline.v1.WorkerService/RegisterWorker",
)


def client_interceptors() -> list[grpc.aio.ClientInterceptor] | None:
    """OpenTelemetry's client interceptors (rpc.* spans, traceparent in the metadata)
    when tracing is on, else None: a channel made with tracing off carries no
    instrumentation at all."""
    if not tracing.active():
        return None
    from opentelemetry.instrumentation.grpc import aio_client_interceptors, filters

    untraced = [filters.full_method_name(method) for method in _UNTRACED_METHODS]
    traced = filters.negate(filters.any_of(*untraced))
    interceptors = aio_client_interceptors(filter_=traced)  # type: ignore[no-untyped-call]
    return cast(list[grpc.aio.ClientInterceptor], interceptors)


def _stored_trace(run: wr.WorkflowRun) -> dict[str, Any]:
    """Only the run context's "trace" key: the caller's other keys may be large."""
    fields = run.context.fields
    if tracing.TRACE_KEY not in fields:
        return {}
    return {tracing.TRACE_KEY: to_python(fields[tracing.TRACE_KEY])}


def run_span(run: wr.WorkflowRun, traced: bool) -> Span:
    """The span of one execution of `run`: a CONSUMER of the work its caller handed over,
    child of the span that started the run (a new trace if none was stored); a replay's
    links to the trace of the run it replays. `traced`: tracing.active(), asked once per
    execution (it reads os.environ each time)."""
    stored = _stored_trace(run)
    parent = tracing.continued(stored)
    if not traced:
        # What the no-op tracer would give (the stored span, non-recording), for less.
        return trace.get_current_span(parent)
    return tracing.tracer().start_span(
        f"run {run.workflow_name}",
        context=parent,
        links=[trace.Link(linked) for linked in tracing.linked(stored)],
        kind=SpanKind.CONSUMER,
        attributes={
            tracing.NAMESPACE_ID: run.namespace_id,
            tracing.RUN_ID: run.run_id,
            tracing.WORKFLOW_NAME: run.workflow_name,
            tracing.ATTEMPT: run.attempt,
        },
    )


@contextlib.contextmanager
def running(span: Span, run_id: str, end_reason: Callable[[], str]) -> Iterator[None]:
    """`span` and `run_id` current for the block (the execution); the span ends with
    `end_reason()` when the block does."""
    run_token = tracing.current_run_id.set(run_id)
    try:
        with trace.use_span(
            span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        ):
            yield
    finally:
        tracing.current_run_id.reset(run_token)
        _end_run(span, end_reason())


def _end_run(span: Span, reason: str) -> None:
    span.set_attribute(tracing.END_REASON, reason)
    # A failure recorded earlier with its exception (failed, crashed) keeps its description.
    if reason in _FAILED_ENDS and not _has_error(span):
        span.set_status(Status(StatusCode.ERROR, reason))
    span.end()


def _has_error(span: Span) -> bool:
    status = getattr(span, "status", None)  # the SDK's spans show it; the API's do not
    return status is not None and status.status_code is StatusCode.ERROR


def step_span(
    name: str, run_id: str, step_id: str, attempt: int, traced: bool
) -> contextlib.AbstractContextManager[Span]:
    """A span for one step of the current execution, current for a `with` block. An
    exception escaping it marks it failed; ExecutionEnded and cancellation (which are
    not Exceptions) do not. With tracing off, nothing (the run's span stays current)."""
    if not traced:
        return contextlib.nullcontext(trace.INVALID_SPAN)
    return tracing.tracer().start_as_current_span(
        name,
        attributes={tracing.RUN_ID: run_id, tracing.STEP_ID: step_id, tracing.ATTEMPT: attempt},
    )


def failed(span: Span, exc: BaseException) -> None:
    """Record `exc` on `span` and mark it failed."""
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__qualname__}: {exc}"))
