"""The WorkflowService calls of runs that wait: signals to a run, events to whoever waits
(SignalWorkflowRun, SendEvent, GetEvent, ListEvents, ListEventRuns)."""

from __future__ import annotations

from typing import Any

import grpc

from services import convert, page_tokens
from services import validation as v
from services.errors import invalid, rpc
from services.metrics import Metrics
from services.registry import Registry
from stepline.v1 import workflow_service_pb2 as pb
from storage import Store
from storage.records import (
    Cursor,
    EventGetParams,
    EventListParams,
    EventRunsParams,
    EventSendParams,
    SignalSendParams,
)

Context = grpc.aio.ServicerContext[Any, Any]


class WaitCalls:
    """Mixed into WorkflowService, whose store and limits it uses."""

    _store: Store
    _limits: v.Limits
    _registry: Registry
    _metrics: Metrics

    @rpc
    async def SignalWorkflowRun(
        self, request: pb.SignalWorkflowRunRequest, context: Context
    ) -> pb.SignalWorkflowRunResponse:
        result = await self._store.signal_send(
            SignalSendParams(
                namespace_id=v.namespace(request.namespace_id),
                run_id=v.identifier(request.run_id, "run_id"),
                signal_name=v.name(request.signal_name, "signal_name"),
                payload=v.payload(request, "payload", self._limits),
                idempotency_key=v.text(request.idempotency_key, "idempotency_key") or None,
            )
        )
        return pb.SignalWorkflowRunResponse(
            signal=convert.signal_to_proto(result.signal), existing=result.existing
        )

    @rpc
    async def SendEvent(
        self, request: pb.SendEventRequest, context: Context
    ) -> pb.SendEventResponse:
        data = v.struct(request, "data", self._limits) or {}
        namespace_id = v.namespace(request.namespace_id)
        event_name = v.name(request.event_name, "event_name")
        params = EventSendParams(
            namespace_id=namespace_id,
            event_name=event_name,
            data=convert.json_text(data),
            idempotency_key=v.text(request.idempotency_key, "idempotency_key") or None,
            starts=await self._registry.triggers.starts(namespace_id, event_name, data),
        )
        result = await self._store.event_send(params)
        if result.started_run_ids:  # one run per start, in order
            for start in params.starts:
                self._metrics.run_started(namespace_id, start.workflow_name)
        return pb.SendEventResponse(
            event=convert.event_to_proto(result.event),
            existing=result.existing,
            started_run_ids=result.started_run_ids,
            resumed_run_ids=result.resumed_run_ids,
        )

    @rpc
    async def GetEvent(self, request: pb.GetEventRequest, context: Context) -> pb.GetEventResponse:
        event = await self._store.event_get(_event_ref(request))
        return pb.GetEventResponse(event=convert.event_to_proto(event))

    @rpc
    async def ListEvents(
        self, request: pb.ListEventsRequest, context: Context
    ) -> pb.ListEventsResponse:
        namespace_id = v.namespace(request.namespace_id)
        event_name = v.optional_name(request.event_name, "event_name")
        after = v.timestamp(request, "received_after")
        before = v.timestamp(request, "received_before")
        scope = page_tokens.scope_of("events", namespace_id, event_name, after, before)
        page = await self._store.event_list(
            EventListParams(
                namespace_id=namespace_id,
                limit=v.page_size(request.page_size),
                event_name=event_name,
                received_after=after,
                received_before=before,
                cursor=page_tokens.decode(request.page_token, scope),
            )
        )
        first, last = (page.items[0], page.items[-1]) if page.items else (None, None)
        next_token = prev_token = ""
        if page.has_next and last is not None:
            next_token = page_tokens.encode(Cursor(last.received_at, last.event_id, True), scope)
        if page.has_prev and first is not None:
            prev_token = page_tokens.encode(Cursor(first.received_at, first.event_id, False), scope)
        return pb.ListEventsResponse(
            events=[convert.event_to_proto(event) for event in page.items],
            next_page_token=next_token,
            prev_page_token=prev_token,
            has_more=page.has_next,
        )

    @rpc
    async def ListEventRuns(
        self, request: pb.ListEventRunsRequest, context: Context
    ) -> pb.ListEventRunsResponse:
        ref = _event_ref(request)
        scope = page_tokens.scope_of("event_runs", ref.namespace_id, ref.event_id)
        found = await self._store.event_runs(
            EventRunsParams(
                namespace_id=ref.namespace_id,
                event_id=ref.event_id,
                limit=v.page_size(request.page_size),
                after=page_tokens.decode(request.page_token, scope),
            )
        )
        return pb.ListEventRunsResponse(
            workflow_runs=[convert.run_to_proto(run) for run in found.runs],
            started_run_ids=found.started_run_ids,
            resumed_run_ids=found.resumed_run_ids,
            next_page_token="" if found.next is None else page_tokens.encode(found.next, scope),
        )


def _event_ref(request: pb.GetEventRequest | pb.ListEventRunsRequest) -> EventGetParams:
    event_id = v.identifier(request.event_id, "event_id")
    if not event_id:  # pragma: no cover - identifier refuses empty IDs
        raise invalid("event_id", "is required")
    return EventGetParams(namespace_id=v.namespace(request.namespace_id), event_id=event_id)
