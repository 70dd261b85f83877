"""Schedules: create, read, pause and resume them, and fire them, each in one
transaction (a fire under the write lock; storage/schedules.py decides)."""

from __future__ import annotations

import sqlite3

from storage.errors import ScheduleAlreadyExists, ScheduleNotFound
from storage.records import (
    FireKind,
    FireOutcome,
    Page,
    Run,
    RunStatus,
    Schedule,
    ScheduleCreateParams,
    ScheduleDueParams,
    ScheduleFireParams,
    ScheduleFireResult,
    ScheduleListParams,
    ScheduleRef,
    ScheduleResumeParams,
    SchedulesDue,
)
from storage.rows import run_from_row, run_insert_params, run_read_from_row
from storage.schedules import decide_fire, schedule_from_row, schedule_insert_params
from storage.sqlite.codec import CODEC, interval, micros
from storage.sqlite.database import Tx


def _ref(ref: ScheduleRef) -> dict[str, object]:
    return {"namespace_id": ref.namespace_id, "schedule_id": ref.schedule_id}


def create(tx: Tx, params: ScheduleCreateParams) -> Schedule:
    row = tx.row("schedule_insert", **schedule_insert_params(params, CODEC))
    if row is None:
        raise ScheduleAlreadyExists(params.namespace_id, params.schedule_id)
    return schedule_from_row(row, CODEC)


def get(tx: Tx, ref: ScheduleRef) -> Schedule:
    return _found(ref, tx.row("schedule_get", **_ref(ref)))


def _found(ref: ScheduleRef, row: sqlite3.Row | None) -> Schedule:
    if row is None:
        raise ScheduleNotFound(ref.namespace_id, ref.schedule_id)
    return schedule_from_row(row, CODEC)


def list_page(tx: Tx, params: ScheduleListParams) -> Page[Schedule]:
    rows = tx.rows(
        "schedule_list",
        namespace_id=params.namespace_id,
        after=params.after,
        limit=params.limit + 1,
    )
    items = [schedule_from_row(row, CODEC) for row in rows[: params.limit]]
    return Page(items, has_next=len(rows) > params.limit, has_prev=params.after is not None)


def delete(tx: Tx, ref: ScheduleRef) -> None:
    if tx.row("schedule_delete", **_ref(ref)) is None:
        raise ScheduleNotFound(ref.namespace_id, ref.schedule_id)


def pause(tx: Tx, ref: ScheduleRef) -> Schedule:
    return _found(ref, tx.row("schedule_pause", **_ref(ref)))


def resume(tx: Tx, params: ScheduleResumeParams) -> Schedule:
    row = tx.row("schedule_resume", **_ref(params.ref), next_fire_at=micros(params.next_fire_at))
    return _found(params.ref, row)


def due(tx: Tx, params: ScheduleDueParams) -> SchedulesDue:
    due_rows = tx.rows("schedules_due", limit=params.limit)
    buffered = tx.rows("schedules_buffered", limit=params.limit)
    clock = tx.one("schedule_next_due")
    return SchedulesDue(
        due=[schedule_from_row(row, CODEC) for row in due_rows],
        buffered=[schedule_from_row(row, CODEC) for row in buffered],
        now=tx.now_at,
        next_due_in=None if due_rows or clock["due_in"] is None else interval(clock["due_in"]),
    )


def fire(tx: Tx, params: ScheduleFireParams) -> tuple[ScheduleFireResult, Run | None]:
    """The fire's result, and the run it started (to wake its queue once committed)."""
    row = tx.row("schedule_lock", **_ref(params.ref))
    schedule = None if row is None else schedule_from_row(row, CODEC)
    active = schedule is not None and _last_run_active(tx, schedule)
    write = decide_fire(schedule, active, params)
    if write is None:
        if schedule is None and params.kind is FireKind.TRIGGER:
            raise ScheduleNotFound(params.ref.namespace_id, params.ref.schedule_id)
        return ScheduleFireResult(FireOutcome.LOST, schedule, None), None
    run = _start(tx, params) if write.starts_run else None
    recorded = tx.one(
        "schedule_record_fire",
        **_ref(params.ref),
        **write.values(CODEC),
        run_id=None if run is None else run.run_id,
    )
    result = ScheduleFireResult(write.outcome, schedule_from_row(recorded, CODEC), run)
    return result, run


def _last_run_active(tx: Tx, schedule: Schedule) -> bool:
    if schedule.last_run_id is None:
        return False
    row = tx.row("run_status_of", run_id=schedule.last_run_id)
    return row is not None and not RunStatus(row["status"]).is_terminal


def _start(tx: Tx, params: ScheduleFireParams) -> Run:
    """The fire's run; the one an earlier try of the same fire started, if any."""
    assert params.run is not None  # decide_fire starts a run only when there is one
    values = run_insert_params(params.run, CODEC)
    row = tx.row("run_insert", **values)
    if row is not None:
        return run_from_row(row, CODEC)
    return run_read_from_row(tx.one("run_by_idempotency_key", **values), CODEC)
