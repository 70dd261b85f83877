"""SendEvent, and reading events: an event is stored and, in the same transaction,
resolves every open EVENT wait it matches (storage/matching.py finds the candidates by
index). Shared advisory locks on the event's keys make it take turns with the event waits
being registered for those keys (event_lock_exclusive)."""

from __future__ import annotations

from storage import waiting
from storage.errors import EventNotFound, StoreError
from storage.ids import uuid7
from storage.notify import QueueKey
from storage.paging import event_list_query, page_of
from storage.postgres import waits
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Database, Q, fetch, fetch_one
from storage.records import (
    Event,
    EventGetParams,
    EventListParams,
    EventRuns,
    EventRunsParams,
    EventSendParams,
    EventSendResult,
    Page,
    RunCreateParams,
)
from storage.rows import (
    event_from_row,
    event_runs_from_rows,
    event_runs_values,
    run_insert_params,
)


async def send(db: Database, params: EventSendParams, woken: set[QueueKey]) -> EventSendResult:
    """The event; the queues of the runs it woke are added to `woken` (committed by return)."""
    key = {"namespace_id": params.namespace_id, "event_name": params.event_name}
    async with db.transaction() as conn:
        for lock in waiting.event_locks(params.namespace_id, params.event_name, params.data):
            await conn.execute(Q["event_lock_shared"], {"lock_key": lock})
        values = {
            **key,
            "id": uuid7(),
            "data": params.data,
            "idempotency_key": params.idempotency_key,
        }
        row = await fetch_one(conn, "event_insert", values)
        if row is None:
            earlier = await fetch_one(conn, "event_by_idempotency_key", values)
            if earlier is None:  # pragma: no cover - events are never deleted
                raise StoreError("idempotency key conflict on an event that no longer exists")
            return EventSendResult(event_from_row(earlier, CODEC), True, [])
        event = event_from_row(row, CODEC)
        resumed = await _resolve_waits(conn, event, woken)
        started = await _start_runs(conn, event, params.starts, woken)
    return EventSendResult(event, False, resumed, started)


async def _start_runs(
    conn: Conn, event: Event, starts: tuple[RunCreateParams, ...], woken: set[QueueKey]
) -> list[str]:
    """Start the runs of the event's triggers (run_insert also NOTIFYs their queues)."""
    started: list[str] = []
    for start in starts:
        row = await fetch_one(conn, "run_insert", run_insert_params(start, CODEC))
        assert row is not None  # no idempotency key: the insert always inserts
        run_id = str(row["id"])
        link = {"event_id": event.event_id, "run_id": run_id}
        await conn.execute(Q["event_run_started"], link)
        woken.add((start.namespace_id, start.task_queue))
        started.append(run_id)
    return started


async def _resolve_waits(conn: Conn, event: Event, woken: set[QueueKey]) -> list[str]:
    """Resolve the open waits the event matches; the runs resumed, each once."""
    values = {
        "namespace_id": event.namespace_id,
        "event_name": event.event_name,
        "keys": waiting.event_keys(event.data),
        "received_at": event.received_at,
    }
    output = waiting.event_output(event)
    resumed: list[str] = []
    for wait in await fetch(conn, "waits_for_event", values):
        if not waiting.event_matches(event, wait["match"]):
            continue
        run_id, step_attempt_id = str(wait["workflow_run_id"]), str(wait["step_attempt_id"])
        if await waits.resolve(conn, step_attempt_id, run_id, output, woken):
            link = {
                "event_id": event.event_id,
                "run_id": run_id,
                "step_attempt_id": step_attempt_id,
            }
            await conn.execute(Q["event_run_insert"], link)
            if run_id not in resumed:
                resumed.append(run_id)
    return resumed


async def get(db: Database, params: EventGetParams) -> Event:
    values = {"namespace_id": params.namespace_id, "event_id": CODEC.id_param(params.event_id)}
    row = await db.fetch_one("event_get", values)
    if row is None:
        raise EventNotFound(params.namespace_id, params.event_id)
    return event_from_row(row, CODEC)


async def list_events(db: Database, params: EventListParams) -> Page[Event]:
    rows = await db.fetch_sql(*event_list_query(Q, CODEC, params))
    return page_of(rows, params, event_from_row, CODEC)


async def runs(db: Database, params: EventRunsParams) -> EventRuns:
    event = await get(db, EventGetParams(params.namespace_id, params.event_id))
    rows = await db.fetch("event_runs", event_runs_values(params, event.event_id, CODEC))
    return event_runs_from_rows(rows, params.limit, CODEC)
