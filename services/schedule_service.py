"""The schedule RPCs of WorkflowService (CreateSchedule ... TriggerSchedule), and the
run a fire or trigger starts. Firing itself is services/scheduler.py's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc

from services import convert, page_tokens
from services import schedule_times as times
from services import validation as v
from services.errors import invalid, rpc
from services.metrics import Metrics
from stepline.v1 import schedule_pb2 as sc
from stepline.v1 import workflow_service_pb2 as wf
from storage import Store
from storage.ids import uuid7
from storage.records import (
    Cursor,
    FireKind,
    Overlap,
    RunCreateParams,
    Schedule,
    ScheduleCreateParams,
    ScheduleFireParams,
    ScheduleListParams,
    ScheduleRef,
    ScheduleResumeParams,
)

Context = grpc.aio.ServicerContext[Any, Any]

_DEFAULT_RETRY_POLICY = v.retry_policy(wf.StartWorkflowRequest(), "retry_policy")


def timing_of(schedule: Schedule) -> times.Timing:
    return times.Timing(schedule.cron, schedule.interval, schedule.timezone)


def fire_run(schedule: Schedule, kind: FireKind, fire_at: datetime) -> RunCreateParams:
    """The run a fire starts. Its idempotency key names the schedule and the fire time, so
    a fire tried twice (two servers, a crash between commit and answer) starts one run;
    a trigger's key is unique. The context says which schedule and fire started it."""
    moment = fire_at.astimezone(UTC).isoformat()
    key = f"schedule:{schedule.schedule_id}:{moment}"
    if kind is FireKind.TRIGGER:
        key = f"schedule:{schedule.schedule_id}:trigger:{uuid7()}"
    context = {"schedule": {"schedule_id": schedule.schedule_id, "fire_at": moment}}
    return RunCreateParams(
        namespace_id=schedule.namespace_id,
        workflow_name=schedule.workflow_name,
        version=schedule.version,
        task_queue=schedule.task_queue,
        input=schedule.input,
        idempotency_key=key,
        context=convert.json_text(context),
        deadline_at=None,
        start_at=None,
        retry_policy=_DEFAULT_RETRY_POLICY,
        priority=schedule.priority,
    )


def _ref(request: Any) -> ScheduleRef:
    return ScheduleRef(
        namespace_id=v.namespace(request.namespace_id),
        schedule_id=v.name(request.schedule_id, "schedule_id"),
    )


def _overlap(value: int) -> Overlap:
    if value == sc.SCHEDULE_OVERLAP_UNSPECIFIED:
        return Overlap.SKIP
    return v.enum_values([value], convert.OVERLAP_FROM_PROTO, "overlap")[0]


def _catchup_window(request: sc.CreateScheduleRequest) -> Any:
    window = v.duration(request, "catchup_window")
    if window is None:
        return times.DEFAULT_CATCHUP_WINDOW
    if window.total_seconds() < 0 or window > times.MAX_CATCHUP_WINDOW:
        raise invalid("catchup_window", "must be 0 to 365 days")
    return window


def create_params(request: sc.CreateScheduleRequest, limits: v.Limits) -> ScheduleCreateParams:
    ref = _ref(request)
    timing = times.timing(
        request.cron.strip(), v.duration(request, "interval"), v.text(request.timezone, "timezone")
    )
    return ScheduleCreateParams(
        namespace_id=ref.namespace_id,
        schedule_id=ref.schedule_id,
        cron=timing.cron,
        interval=timing.interval,
        timezone=timing.timezone,
        workflow_name=v.name(request.workflow_name, "workflow_name"),
        version=v.text(request.version, "version"),
        task_queue=v.name(request.task_queue, "task_queue", v.DEFAULT_TASK_QUEUE),
        input=v.payload(request, "input", limits),
        priority=v.priority(request.priority),
        overlap=_overlap(request.overlap),
        catchup_window=_catchup_window(request),
        paused=request.paused,
        next_fire_at=timing.next_after(datetime.now(UTC)),
    )


class ScheduleRpcs:
    """Mixed into WorkflowService, which provides the store, limits and metrics."""

    _store: Store
    _limits: v.Limits
    _metrics: Metrics

    @rpc
    async def CreateSchedule(
        self, request: sc.CreateScheduleRequest, context: Context
    ) -> sc.CreateScheduleResponse:
        schedule = await self._store.schedule_create(create_params(request, self._limits))
        return sc.CreateScheduleResponse(schedule=convert.schedule_to_proto(schedule))

    @rpc
    async def GetSchedule(
        self, request: sc.GetScheduleRequest, context: Context
    ) -> sc.GetScheduleResponse:
        schedule = await self._store.schedule_get(_ref(request))
        return sc.GetScheduleResponse(schedule=convert.schedule_to_proto(schedule))

    @rpc
    async def ListSchedules(
        self, request: sc.ListSchedulesRequest, context: Context
    ) -> sc.ListSchedulesResponse:
        namespace_id = v.namespace(request.namespace_id)
        scope = page_tokens.scope_of("schedules", namespace_id)
        cursor = page_tokens.decode(request.page_token, scope)
        page = await self._store.schedule_list(
            ScheduleListParams(
                namespace_id=namespace_id,
                limit=v.page_size(request.page_size),
                after=None if cursor is None else cursor.id,
            )
        )
        last = page.items[-1] if page.items else None
        token = ""
        if page.has_next and last is not None:
            key = Cursor(convert.EPOCH, last.schedule_id, forward=True)
            token = page_tokens.encode(key, scope)
        return sc.ListSchedulesResponse(
            schedules=[convert.schedule_to_proto(s) for s in page.items],
            next_page_token=token,
            has_more=page.has_next,
        )

    @rpc
    async def DeleteSchedule(
        self, request: sc.DeleteScheduleRequest, context: Context
    ) -> sc.DeleteScheduleResponse:
        await self._store.schedule_delete(_ref(request))
        return sc.DeleteScheduleResponse()

    @rpc
    async def PauseSchedule(
        self, request: sc.PauseScheduleRequest, context: Context
    ) -> sc.PauseScheduleResponse:
        schedule = await self._store.schedule_pause(_ref(request))
        return sc.PauseScheduleResponse(schedule=convert.schedule_to_proto(schedule))

    @rpc
    async def ResumeSchedule(
        self, request: sc.ResumeScheduleRequest, context: Context
    ) -> sc.ResumeScheduleResponse:
        ref = _ref(request)
        current = await self._store.schedule_get(ref)
        next_fire_at = timing_of(current).next_after(datetime.now(UTC))
        schedule = await self._store.schedule_resume(ScheduleResumeParams(ref, next_fire_at))
        return sc.ResumeScheduleResponse(schedule=convert.schedule_to_proto(schedule))

    @rpc
    async def TriggerSchedule(
        self, request: sc.TriggerScheduleRequest, context: Context
    ) -> sc.TriggerScheduleResponse:
        ref = _ref(request)
        current = await self._store.schedule_get(ref)
        now = datetime.now(UTC)
        result = await self._store.schedule_fire(
            ScheduleFireParams(
                ref=ref,
                kind=FireKind.TRIGGER,
                fire_at=now,
                next_fire_at=None,
                missed=0,
                run=fire_run(current, FireKind.TRIGGER, now),
            )
        )
        assert result.schedule is not None
        assert result.run is not None
        self._metrics.run_started(ref.namespace_id, result.run.workflow_name)
        self._metrics.schedule_fired(ref.namespace_id, "triggered")
        return sc.TriggerScheduleResponse(
            schedule=convert.schedule_to_proto(result.schedule), run_id=result.run.run_id
        )
