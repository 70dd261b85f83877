"""Schedules: create, read, pause and resume them (one statement each), and fire them
(one transaction under the schedule's row lock, storage/schedules.py decides)."""

from __future__ import annotations

from storage.errors import ScheduleAlreadyExists, ScheduleNotFound
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Database, fetch, fetch_one
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


def _ref(ref: ScheduleRef) -> dict[str, str]:
    return {"namespace_id": ref.namespace_id, "schedule_id": ref.schedule_id}


async def create(db: Database, params: ScheduleCreateParams) -> Schedule:
    row = await db.fetch_one("schedule_insert", schedule_insert_params(params, CODEC))
    if row is None:
        raise ScheduleAlreadyExists(params.namespace_id, params.schedule_id)
    return schedule_from_row(row, CODEC)


async def get(db: Database, ref: ScheduleRef) -> Schedule:
    return _found(ref, await db.fetch_one("schedule_get", _ref(ref)))


def _found(ref: ScheduleRef, row: object) -> Schedule:
    if row is None:
        raise ScheduleNotFound(ref.namespace_id, ref.schedule_id)
    return schedule_from_row(row, CODEC)  # type: ignore[arg-type]


async def list_page(db: Database, params: ScheduleListParams) -> Page[Schedule]:
    rows = await db.fetch(
        "schedule_list",
        {"namespace_id": params.namespace_id, "after": params.after, "limit": params.limit + 1},
    )
    items = [schedule_from_row(row, CODEC) for row in rows[: params.limit]]
    return Page(items, has_next=len(rows) > params.limit, has_prev=params.after is not None)


async def delete(db: Database, ref: ScheduleRef) -> None:
    if await db.fetch_one("schedule_delete", _ref(ref)) is None:
        raise ScheduleNotFound(ref.namespace_id, ref.schedule_id)


async def pause(db: Database, ref: ScheduleRef) -> Schedule:
    return _found(ref, await db.fetch_one("schedule_pause", _ref(ref)))


async def resume(db: Database, params: ScheduleResumeParams) -> Schedule:
    row = await db.fetch_one(
        "schedule_resume", {**_ref(params.ref), "next_fire_at": params.next_fire_at}
    )
    return _found(params.ref, row)


async def due(db: Database, params: ScheduleDueParams) -> SchedulesDue:
    limit = {"limit": params.limit}
    due_rows = await db.fetch("schedules_due", limit)
    buffered = await db.fetch("schedules_buffered", limit)
    clock = await db.fetch_one("schedule_next_due", {})
    assert clock is not None  # an aggregate always answers one row
    return SchedulesDue(
        due=[schedule_from_row(row, CODEC) for row in due_rows],
        buffered=[schedule_from_row(row, CODEC) for row in buffered],
        now=clock["db_now"],
        next_due_in=None if due_rows else clock["due_in"],
    )


async def fire(db: Database, params: ScheduleFireParams) -> ScheduleFireResult:
    async with db.transaction() as conn:
        locked = await fetch_one(conn, "schedule_lock", _ref(params.ref))
        schedule = None if locked is None else schedule_from_row(locked, CODEC)
        active = schedule is not None and await _last_run_active(conn, schedule)
        write = decide_fire(schedule, active, params)
        if write is None:
            if schedule is None and params.kind is FireKind.TRIGGER:
                raise ScheduleNotFound(params.ref.namespace_id, params.ref.schedule_id)
            return ScheduleFireResult(FireOutcome.LOST, schedule, None)
        run = await _start(conn, params) if write.starts_run else None
        row = await fetch_one(
            conn,
            "schedule_record_fire",
            {
                **_ref(params.ref),
                **write.values(CODEC),
                "run_id": None if run is None else CODEC.id_param(run.run_id),
            },
        )
        assert row is not None  # the row is locked by this transaction
        return ScheduleFireResult(write.outcome, schedule_from_row(row, CODEC), run)


async def _last_run_active(conn: Conn, schedule: Schedule) -> bool:
    if schedule.last_run_id is None:
        return False
    row = await fetch_one(conn, "run_status_of", {"run_id": CODEC.id_param(schedule.last_run_id)})
    return row is not None and not RunStatus(row["status"]).is_terminal


async def _start(conn: Conn, params: ScheduleFireParams) -> Run:
    """The fire's run; the one an earlier try of the same fire started, if any."""
    assert params.run is not None  # decide_fire starts a run only when there is one
    values = run_insert_params(params.run, CODEC)
    row = await fetch_one(conn, "run_insert", values)
    if row is not None:
        return run_from_row(row, CODEC)
    existing = await fetch(conn, "run_by_idempotency_key", values)
    return run_read_from_row(existing[0], CODEC)
