"""What every backend does with schedules, apart from SQL: rows to records, the
parameters of the statements, and the rule that decides what a fire writes.

A fire is decided under the schedule's row lock (PostgreSQL: FOR UPDATE; SQLite: the
write lock), against the schedule as it is then: a fire read by two servers is done by
the first and found changed (LOST) by the second. Its run's idempotency key names the
schedule and fire time, so even a fire repeated after a crash starts one run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.records import (
    FireKind,
    FireOutcome,
    Overlap,
    Schedule,
    ScheduleCreateParams,
    ScheduleFireParams,
)
from storage.rows import Codec, Row


def schedule_from_row(row: Row, codec: Codec) -> Schedule:
    interval = row["fire_interval"]
    return Schedule(
        namespace_id=row["namespace_id"],
        schedule_id=row["schedule_id"],
        cron=row["cron"],
        interval=None if interval is None else codec.interval(interval),
        timezone=row["timezone"],
        workflow_name=row["workflow_name"],
        version=row["version"],
        task_queue=row["task_queue"],
        input=row["input"],
        priority=row["priority"],
        overlap=Overlap(row["overlap"]),
        catchup_window=codec.interval(row["catchup_window"]),
        paused=bool(row["paused"]),
        next_fire_at=codec.moment(row["next_fire_at"]),
        last_fire_at=codec.moment_or_none(row["last_fire_at"]),
        last_run_id=None if row["last_run_id"] is None else str(row["last_run_id"]),
        buffered_fire_at=codec.moment_or_none(row["buffered_fire_at"]),
        missed_fires=row["missed_fires"],
        skipped_fires=row["skipped_fires"],
        created_at=codec.moment(row["created_at"]),
        updated_at=codec.moment(row["updated_at"]),
    )


def schedule_insert_params(params: ScheduleCreateParams, codec: Codec) -> dict[str, Any]:
    return {
        "namespace_id": params.namespace_id,
        "schedule_id": params.schedule_id,
        "cron": params.cron,
        "fire_interval": None if params.interval is None else codec.interval_param(params.interval),
        "timezone": params.timezone,
        "workflow_name": params.workflow_name,
        "version": params.version,
        "task_queue": params.task_queue,
        "input": params.input,
        "priority": params.priority,
        "overlap": params.overlap.value,
        "catchup_window": codec.interval_param(params.catchup_window),
        "paused": params.paused,
        "next_fire_at": codec.moment_param(params.next_fire_at),
    }


@dataclass(frozen=True, slots=True)
class FireWrite:
    """What a fire changes: the schedule's new state, and whether it starts its run."""

    outcome: FireOutcome
    next_fire_at: datetime
    last_fire_at: datetime | None
    buffered_fire_at: datetime | None
    missed: int
    skipped: int

    @property
    def starts_run(self) -> bool:
        return self.outcome is FireOutcome.STARTED

    def values(self, codec: Codec) -> dict[str, Any]:
        """The parameters of schedule_record_fire, but for the run's ID."""
        return {
            "next_fire_at": codec.moment_param(self.next_fire_at),
            "last_fire_at": codec.moment_param_or_none(self.last_fire_at),
            "buffered_fire_at": codec.moment_param_or_none(self.buffered_fire_at),
            "missed": self.missed,
            "skipped": self.skipped,
        }


def decide_fire(
    schedule: Schedule | None, last_run_active: bool, params: ScheduleFireParams
) -> FireWrite | None:
    """What the fire `params` writes to `schedule` (locked), or None when the schedule
    changed since the caller read it (FireOutcome.LOST)."""
    if schedule is None:
        return None
    if params.kind is FireKind.TRIGGER:
        return _unscheduled(schedule, buffered_fire_at=schedule.buffered_fire_at)
    if schedule.paused:
        return None
    if params.kind is FireKind.BUFFERED:
        if schedule.buffered_fire_at != params.fire_at or last_run_active:
            return None
        return _unscheduled(schedule, buffered_fire_at=None)
    if schedule.next_fire_at != params.fire_at or params.next_fire_at is None:
        return None
    outcome, buffered = _scheduled_outcome(schedule, last_run_active, params)
    return FireWrite(
        outcome=outcome,
        next_fire_at=params.next_fire_at,
        last_fire_at=schedule.last_fire_at if outcome is FireOutcome.MISSED else params.fire_at,
        buffered_fire_at=buffered,
        missed=params.missed + (outcome is FireOutcome.MISSED),
        skipped=int(outcome is FireOutcome.SKIPPED),
    )


def _scheduled_outcome(
    schedule: Schedule, last_run_active: bool, params: ScheduleFireParams
) -> tuple[FireOutcome, datetime | None]:
    """The outcome of a scheduled fire by the overlap policy, and the buffered fire after."""
    kept = schedule.buffered_fire_at
    if params.run is None:
        return FireOutcome.MISSED, kept
    if not last_run_active or schedule.overlap is Overlap.ALLOW_ALL:
        return FireOutcome.STARTED, kept
    if schedule.overlap is Overlap.BUFFER_ONE and kept is None:
        return FireOutcome.BUFFERED, params.fire_at
    return FireOutcome.SKIPPED, kept


def _unscheduled(schedule: Schedule, buffered_fire_at: datetime | None) -> FireWrite:
    """A run started outside the schedule's timing (a trigger, a buffered fire), which
    leaves its next and last fire as they are."""
    return FireWrite(
        outcome=FireOutcome.STARTED,
        next_fire_at=schedule.next_fire_at,
        last_fire_at=schedule.last_fire_at,
        buffered_fire_at=buffered_fire_at,
        missed=0,
        skipped=0,
    )
