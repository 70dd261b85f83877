"""Schedules in the SDK: the Schedule value and the Client's schedule calls."""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from stepline._convert import fill_value, optional_time, to_duration, to_python
from stepline.v1 import schedule_pb2 as sc
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc

_OVERLAP_PREFIX = "SCHEDULE_OVERLAP_"


class Overlap(enum.StrEnum):
    """What a fire does while the schedule's previous run is still active."""

    SKIP = "SKIP"
    """Start nothing (counted in `skipped_fires`); the default."""
    BUFFER_ONE = "BUFFER_ONE"
    """Keep one fire and start it when the previous run ends."""
    ALLOW_ALL = "ALLOW_ALL"
    """Start a run every fire."""

    @property
    def proto(self) -> int:
        return sc.ScheduleOverlap.Value(_OVERLAP_PREFIX + self.value)

    @classmethod
    def parse(cls, value: Overlap | str) -> Overlap:
        """'skip', 'SKIP' or 'SCHEDULE_OVERLAP_SKIP'."""
        if isinstance(value, Overlap):
            return value
        return cls(value.strip().upper().removeprefix(_OVERLAP_PREFIX))


def _duration(msg: Any, name: str) -> timedelta | None:
    return getattr(msg, name).ToTimedelta() if msg.HasField(name) else None


@dataclass(frozen=True)
class Schedule:
    schedule_id: str
    namespace_id: str
    cron: str
    """A cron expression (5 fields, or 6 with seconds first); empty with an interval."""
    interval: timedelta | None
    timezone: str
    workflow_name: str
    version: str
    task_queue: str
    input: Any
    overlap: Overlap
    paused: bool
    priority: int
    catchup_window: timedelta | None
    next_fire_at: datetime | None
    last_fire_at: datetime | None
    last_run_id: str
    buffered_fire_at: datetime | None
    missed_fires: int
    """Fires skipped as older than the catch-up window (no server ran in time)."""
    skipped_fires: int
    """Fires the overlap policy started nothing for."""
    created_at: datetime | None
    updated_at: datetime | None
    proto: sc.Schedule = field(repr=False, compare=False, kw_only=True)

    @classmethod
    def from_proto(cls, msg: sc.Schedule) -> Schedule:
        overlap = sc.ScheduleOverlap.Name(msg.overlap).removeprefix(_OVERLAP_PREFIX)
        return cls(
            schedule_id=msg.schedule_id,
            namespace_id=msg.namespace_id,
            cron=msg.cron,
            interval=_duration(msg, "interval"),
            timezone=msg.timezone,
            workflow_name=msg.workflow_name,
            version=msg.version,
            task_queue=msg.task_queue,
            input=to_python(msg.input) if msg.HasField("input") else None,
            overlap=Overlap(overlap) if overlap in Overlap.__members__ else Overlap.SKIP,
            paused=msg.paused,
            priority=msg.priority,
            catchup_window=_duration(msg, "catchup_window"),
            next_fire_at=optional_time(msg, "next_fire_at"),
            last_fire_at=optional_time(msg, "last_fire_at"),
            last_run_id=msg.last_run_id,
            buffered_fire_at=optional_time(msg, "buffered_fire_at"),
            missed_fires=msg.missed_fires,
            skipped_fires=msg.skipped_fires,
            created_at=optional_time(msg, "created_at"),
            updated_at=optional_time(msg, "updated_at"),
            proto=msg,
        )


class ScheduleCalls:
    """The Client's schedule calls (mixed into Client, which provides the rest)."""

    namespace: str

    @property
    def _stub(self) -> wf_grpc.WorkflowServiceStub:
        raise NotImplementedError

    async def _call(self, method: Any, request: Any) -> Any:
        raise NotImplementedError

    async def create_schedule(
        self,
        schedule_id: str,
        workflow_name: str,
        input: Any = None,
        *,
        cron: str = "",
        interval: timedelta | None = None,
        timezone: str = "UTC",
        version: str = "",
        task_queue: str = "default",
        overlap: Overlap | str = Overlap.SKIP,
        catchup_window: timedelta | None = None,
        priority: int = 0,
        paused: bool = False,
    ) -> Schedule:
        """A schedule that starts `workflow_name` by `cron` (in `timezone`) or every
        `interval`. ScheduleAlreadyExists when the ID is taken; InvalidArgument for a bad
        expression, zone or interval. `catchup_window` None is the server's 1 minute."""
        request = sc.CreateScheduleRequest(
            namespace_id=self.namespace,
            schedule_id=schedule_id,
            workflow_name=workflow_name,
            cron=cron,
            timezone=timezone,
            version=version,
            task_queue=task_queue,
            priority=priority,
            paused=paused,
        )
        request.overlap = Overlap.parse(overlap).proto  # type: ignore[assignment]
        fill_value(request.input, input, "input")
        if interval is not None:
            request.interval.CopyFrom(to_duration(interval))
        if catchup_window is not None:
            request.catchup_window.CopyFrom(to_duration(catchup_window))
        response = await self._call(self._stub.CreateSchedule, request)
        return Schedule.from_proto(response.schedule)

    async def get_schedule(self, schedule_id: str) -> Schedule:
        request = sc.GetScheduleRequest(namespace_id=self.namespace, schedule_id=schedule_id)
        return Schedule.from_proto((await self._call(self._stub.GetSchedule, request)).schedule)

    async def list_schedules(self, *, page_size: int = 100) -> AsyncGenerator[Schedule, None]:
        """Every schedule of the namespace in schedule_id order, a page at a time."""
        token = ""
        while True:
            request = sc.ListSchedulesRequest(
                namespace_id=self.namespace, page_size=page_size, page_token=token
            )
            response = await self._call(self._stub.ListSchedules, request)
            for msg in response.schedules:
                yield Schedule.from_proto(msg)
            if not response.has_more:
                return
            token = response.next_page_token

    async def delete_schedule(self, schedule_id: str) -> None:
        """Delete the schedule; the runs it started stay."""
        request = sc.DeleteScheduleRequest(namespace_id=self.namespace, schedule_id=schedule_id)
        await self._call(self._stub.DeleteSchedule, request)

    async def pause_schedule(self, schedule_id: str) -> Schedule:
        request = sc.PauseScheduleRequest(namespace_id=self.namespace, schedule_id=schedule_id)
        return Schedule.from_proto((await self._call(self._stub.PauseSchedule, request)).schedule)

    async def resume_schedule(self, schedule_id: str) -> Schedule:
        """Resume from the next fire after now (fires missed while paused are not made up)."""
        request = sc.ResumeScheduleRequest(namespace_id=self.namespace, schedule_id=schedule_id)
        return Schedule.from_proto((await self._call(self._stub.ResumeSchedule, request)).schedule)

    async def trigger_schedule(self, schedule_id: str) -> tuple[Schedule, str]:
        """Start one run now, paused or not, whatever the overlap policy: the schedule and
        the new run's ID."""
        request = sc.TriggerScheduleRequest(namespace_id=self.namespace, schedule_id=schedule_id)
        response = await self._call(self._stub.TriggerSchedule, request)
        return Schedule.from_proto(response.schedule), response.run_id
