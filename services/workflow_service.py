"""WorkflowService: the client API (start, get, list, cancel and replay runs, one or a
batch at a time; get and list steps; signals and events: services/waits_service.py;
schedules: services/schedule_service.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import grpc

from services import batch_tokens, batches, convert, filters, page_tokens, tracecontext
from services import validation as v
from services.errors import rpc
from services.metrics import Metrics
from services.registry import Registry
from services.registry_service import RegistryCalls
from services.schedule_service import ScheduleRpcs
from services.waits_service import WaitCalls
from stepline.v1 import workflow_service_pb2 as pb
from stepline.v1 import workflow_service_pb2_grpc as pb_grpc
from storage import Store
from storage.ids import uuid7
from storage.records import (
    Cursor,
    Page,
    RunBatchCancelParams,
    RunBatchReplayParams,
    RunCancelParams,
    RunCreateParams,
    RunGetParams,
    RunListParams,
    RunReplayParams,
    StepGetParams,
    StepListParams,
)

Context = grpc.aio.ServicerContext[Any, Any]


T = TypeVar("T")


def _tokens(page: Page[T], key: Callable[[T], tuple[datetime, str]], scope: str) -> dict[str, Any]:
    """next/prev tokens at the page's edges, keyed by (created_at, id)."""
    first, last = (page.items[0], page.items[-1]) if page.items else (None, None)
    next_token = (
        page_tokens.encode(Cursor(*key(last), forward=True), scope)
        if page.has_next and last is not None
        else ""
    )
    prev_token = (
        page_tokens.encode(Cursor(*key(first), forward=False), scope)
        if page.has_prev and first is not None
        else ""
    )
    return {"next_page_token": next_token, "prev_page_token": prev_token, "has_more": page.has_next}


def _caller_trace(context: Context) -> str | None:
    """The caller's W3C trace context as JSON, for a run that continues the trace."""
    trace = tracecontext.trace_context(context.invocation_metadata())
    return None if trace is None else convert.json_text(trace)


class WorkflowService(RegistryCalls, ScheduleRpcs, WaitCalls, pb_grpc.WorkflowServiceServicer):
    def __init__(
        self, store: Store, limits: v.Limits, metrics: Metrics, registry: Registry
    ) -> None:
        self._store = store
        self._limits = limits
        self._metrics = metrics
        self._registry = registry

    @rpc
    async def StartWorkflow(
        self, request: pb.StartWorkflowRequest, context: Context
    ) -> pb.StartWorkflowResponse:
        caller_context = v.struct(request, "context", self._limits)
        trace = tracecontext.trace_context(context.invocation_metadata())
        merged = tracecontext.with_trace(caller_context, trace)
        namespace_id = v.namespace(request.namespace_id)
        workflow_name = v.name(request.workflow_name, "workflow_name")
        target = await self._registry.start_target(
            namespace_id, workflow_name, v.text(request.version, "version")
        )
        run_input = v.payload(request, "input", self._limits)
        if target.input_schema is not None:
            self._registry.validators.check(target.input_schema, run_input)
        params = RunCreateParams(
            namespace_id=namespace_id,
            workflow_name=workflow_name,
            version=target.version,
            task_queue=v.name(request.task_queue, "task_queue", v.DEFAULT_TASK_QUEUE),
            input=run_input,
            idempotency_key=v.text(request.idempotency_key, "idempotency_key") or None,
            context=None if merged is None else convert.json_text(merged),
            deadline_at=v.timestamp(request, "deadline_at"),
            start_at=v.timestamp(request, "start_at"),
            retry_policy=v.retry_policy(request, "retry_policy"),
            # Unset: the pinned version's default priority, else the server's.
            priority=v.priority(request.priority or target.priority),
            concurrency_key=v.text(request.concurrency_key, "concurrency_key") or None,
        )
        result = await self._store.run_create(params)
        if not result.existing:  # an idempotent repeat returns the run it started before
            self._metrics.run_started(params.namespace_id, params.workflow_name)
        return pb.StartWorkflowResponse(
            run=convert.run_to_proto(result.run),
            existing=result.existing,
            warnings=target.warnings,
        )

    @rpc
    async def GetWorkflowRun(
        self, request: pb.GetWorkflowRunRequest, context: Context
    ) -> pb.GetWorkflowRunResponse:
        run = await self._store.run_get(
            RunGetParams(
                namespace_id=v.namespace(request.namespace_id),
                run_id=v.identifier(request.run_id, "run_id"),
            )
        )
        return pb.GetWorkflowRunResponse(run=convert.run_to_proto(run))

    @rpc
    async def ListWorkflowRuns(
        self, request: pb.ListWorkflowRunsRequest, context: Context
    ) -> pb.ListWorkflowRunsResponse:
        namespace_id = v.namespace(request.namespace_id)
        run_filter = filters.run_filter(request)
        scope = page_tokens.scope_of("runs", namespace_id, *filters.scope_parts(run_filter))
        page = await self._store.run_list(
            RunListParams(
                namespace_id=namespace_id,
                filter=run_filter,
                limit=v.page_size(request.page_size),
                cursor=page_tokens.decode(request.page_token, scope),
            )
        )
        return pb.ListWorkflowRunsResponse(
            workflow_runs=[convert.run_to_proto(run) for run in page.items],
            **_tokens(page, lambda run: (run.created_at, run.run_id), scope),
        )

    @rpc
    async def CancelWorkflowRun(
        self, request: pb.CancelWorkflowRunRequest, context: Context
    ) -> pb.CancelWorkflowRunResponse:
        run = await self._store.run_cancel(
            RunCancelParams(
                namespace_id=v.namespace(request.namespace_id),
                run_id=v.identifier(request.run_id, "run_id"),
                reason=v.text(request.reason, "reason", max_length=1024),
            )
        )
        return pb.CancelWorkflowRunResponse(run=convert.run_to_proto(run))

    @rpc
    async def ReplayWorkflowRun(
        self, request: pb.ReplayWorkflowRunRequest, context: Context
    ) -> pb.ReplayWorkflowRunResponse:
        result = await self._store.run_replay(
            RunReplayParams(
                namespace_id=v.namespace(request.namespace_id),
                run_id=v.identifier(request.run_id, "run_id"),
                from_step_id=v.optional_name(request.from_step_id, "from_step_id"),
                input=v.payload(request, "input", self._limits),
                idempotency_key=v.text(request.idempotency_key, "idempotency_key") or None,
                trace=_caller_trace(context),
            )
        )
        return pb.ReplayWorkflowRunResponse(
            run=convert.run_to_proto(result.run), existing=result.existing
        )

    @rpc
    async def BatchCancelWorkflowRuns(
        self, request: pb.BatchCancelWorkflowRunsRequest, context: Context
    ) -> pb.BatchCancelWorkflowRunsResponse:
        chunk = batches.chunk_of(request, "batchCancel")
        reason = v.text(request.reason, "reason", max_length=1024)
        result = await self._store.run_batch_cancel(RunBatchCancelParams(chunk.params, reason))
        return pb.BatchCancelWorkflowRunsResponse(**batches.answer(result, chunk))

    @rpc
    async def BatchReplayWorkflowRuns(
        self, request: pb.BatchReplayWorkflowRunsRequest, context: Context
    ) -> pb.BatchReplayWorkflowRunsResponse:
        from_step_id = v.optional_name(request.from_step_id, "from_step_id")
        requested_id = v.optional_name(request.batch_id, "batch_id")
        chunk = batches.chunk_of(request, "batchReplay", from_step_id)
        batch_id = batch_tokens.batch_id_of(chunk.position, requested_id, minted=uuid7())
        result = await self._store.run_batch_replay(
            RunBatchReplayParams(chunk.params, batch_id, from_step_id, _caller_trace(context))
        )
        return pb.BatchReplayWorkflowRunsResponse(
            **batches.answer(result, chunk, batch_id), batch_id=batch_id
        )

    @rpc
    async def ListStepAttempts(
        self, request: pb.ListStepAttemptsRequest, context: Context
    ) -> pb.ListStepAttemptsResponse:
        namespace_id = v.namespace(request.namespace_id)
        run_id = v.identifier(request.run_id, "run_id")
        scope = page_tokens.scope_of("steps", namespace_id, run_id)
        page = await self._store.step_list(
            StepListParams(
                namespace_id=namespace_id,
                run_id=run_id,
                limit=v.page_size(request.page_size),
                cursor=page_tokens.decode(request.page_token, scope),
            )
        )
        return pb.ListStepAttemptsResponse(
            step_attempts=[convert.step_to_proto(step) for step in page.items],
            **_tokens(page, lambda step: (step.created_at, step.step_attempt_id), scope),
        )

    @rpc
    async def GetStepAttempt(
        self, request: pb.GetStepAttemptRequest, context: Context
    ) -> pb.GetStepAttemptResponse:
        step = await self._store.step_get(
            StepGetParams(
                namespace_id=v.namespace(request.namespace_id),
                run_id=v.identifier(request.run_id, "run_id"),
                step_attempt_id=v.identifier(request.step_attempt_id, "step_attempt_id"),
            )
        )
        return pb.GetStepAttemptResponse(step_attempt=convert.step_to_proto(step))
