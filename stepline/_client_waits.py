"""The client's calls for runs that wait: signal a run, send events, read them, and list
a run's children. Mixed into Client (stepline/_client.py)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from stepline._convert import fill_value, to_timestamp
from stepline._values import Event, EventRuns, EventSent, Page, Run, Signal
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc

# The largest page ListEventRuns gives: event_runs follows the pages in as few calls.
_EVENT_RUNS_PAGE = 1000


class WaitCalls:
    """Uses the Client's namespace, stub and `_call`."""

    namespace: str

    @property
    def _stub(self) -> wf_grpc.WorkflowServiceStub:
        raise NotImplementedError  # pragma: no cover - Client's own

    async def _call(self, method: Any, request: Any) -> Any:
        raise NotImplementedError  # pragma: no cover - Client's own

    async def signal(
        self, run_id: str, signal_name: str, payload: Any = None, *, idempotency_key: str = ""
    ) -> Signal:
        """Send a signal to a run; a wait for `signal_name` takes it (now, or when the run
        reaches one). RunAlreadyTerminal when the run has ended."""
        request = wf.SignalWorkflowRunRequest(
            namespace_id=self.namespace,
            run_id=run_id,
            signal_name=signal_name,
            idempotency_key=idempotency_key,
        )
        fill_value(request.payload, payload, "the signal's payload")
        response = await self._call(self._stub.SignalWorkflowRun, request)
        return Signal.from_proto(response.signal)

    async def send_event(
        self,
        event_name: str,
        data: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str = "",
    ) -> EventSent:
        """Send an event: every run waiting for it (name and match) resumes."""
        request = wf.SendEventRequest(
            namespace_id=self.namespace, event_name=event_name, idempotency_key=idempotency_key
        )
        request.data.update(dict(data or {}))
        response = await self._call(self._stub.SendEvent, request)
        return EventSent(
            event=Event.from_proto(response.event),
            existing=response.existing,
            resumed_run_ids=builtins.list(response.resumed_run_ids),
            started_run_ids=builtins.list(response.started_run_ids),
        )

    async def get_event(self, event_id: str) -> Event:
        request = wf.GetEventRequest(namespace_id=self.namespace, event_id=event_id)
        response = await self._call(self._stub.GetEvent, request)
        return Event.from_proto(response.event)

    async def list_events(
        self,
        *,
        page_token: str = "",
        page_size: int = 50,
        event_name: str = "",
        received_after: datetime | None = None,
        received_before: datetime | None = None,
    ) -> Page[Event]:
        """One page of events, oldest first."""
        request = wf.ListEventsRequest(
            namespace_id=self.namespace,
            page_token=page_token,
            page_size=page_size,
            event_name=event_name,
        )
        if received_after is not None:
            request.received_after.CopyFrom(to_timestamp(received_after, "received_after"))
        if received_before is not None:
            request.received_before.CopyFrom(to_timestamp(received_before, "received_before"))
        response = await self._call(self._stub.ListEvents, request)
        return Page(
            items=[Event.from_proto(event) for event in response.events],
            next_page_token=response.next_page_token,
            prev_page_token=response.prev_page_token,
            has_more=response.has_more,
        )

    async def event_runs(self, event_id: str) -> EventRuns:
        """Every run the event started or resumed, in the order it reached them (the
        pages of ListEventRuns, followed to the last)."""
        runs: builtins.list[Run] = []
        started: builtins.list[str] = []
        resumed: builtins.list[str] = []
        token = ""
        while True:
            request = wf.ListEventRunsRequest(
                namespace_id=self.namespace,
                event_id=event_id,
                page_size=_EVENT_RUNS_PAGE,
                page_token=token,
            )
            response = await self._call(self._stub.ListEventRuns, request)
            runs.extend(Run.from_proto(run) for run in response.workflow_runs)
            started.extend(response.started_run_ids)
            resumed.extend(response.resumed_run_ids)
            token = response.next_page_token
            if not token:
                return EventRuns(runs=runs, started_run_ids=started, resumed_run_ids=resumed)

    async def children(self, run_id: str) -> builtins.list[Run]:
        """The child runs `run_id` started (ctx.step.invoke), oldest first."""
        found: builtins.list[Run] = []
        token = ""
        while True:
            request = wf.ListWorkflowRunsRequest(
                namespace_id=self.namespace, parent_run_id=run_id, page_size=1000, page_token=token
            )
            response = await self._call(self._stub.ListWorkflowRuns, request)
            found.extend(Run.from_proto(run) for run in response.workflow_runs)
            if not response.has_more:
                return found
            token = response.next_page_token
