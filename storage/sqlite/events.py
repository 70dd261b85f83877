"""SendEvent, and reading events. Mirrors storage/postgres/events.py."""

from __future__ import annotations

from storage import waiting
from storage.errors import EventNotFound, StoreError
from storage.ids import uuid7
from storage.paging import event_list_query, page_of
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
from storage.sqlite import waits
from storage.sqlite.codec import CODEC
from storage.sqlite.database import QUERIES, Tx


def send(tx: Tx, params: EventSendParams) -> EventSendResult:
    row = tx.row(
        "event_insert",
        id=uuid7(),
        namespace_id=params.namespace_id,
        event_name=params.event_name,
        data=params.data,
        idempotency_key=params.idempotency_key,
    )
    if row is None:
        earlier = tx.row(
            "event_by_idempotency_key",
            namespace_id=params.namespace_id,
            idempotency_key=params.idempotency_key,
        )
        if earlier is None:  # pragma: no cover - events are never deleted
            raise StoreError("idempotency key conflict on an event that no longer exists")
        return EventSendResult(event_from_row(earlier, CODEC), True, [])
    event = event_from_row(row, CODEC)
    resumed = _resolve_waits(tx, event)
    return EventSendResult(event, False, resumed, _start_runs(tx, event, params.starts))


def _start_runs(tx: Tx, event: Event, starts: tuple[RunCreateParams, ...]) -> list[str]:
    """Start the runs of the event's triggers."""
    started: list[str] = []
    for start in starts:
        row = tx.row("run_insert", **run_insert_params(start, CODEC))
        assert row is not None  # no idempotency key: the insert always inserts
        tx.execute("event_run_started", event_id=event.event_id, run_id=row["id"])
        started.append(str(row["id"]))
    return started


def _resolve_waits(tx: Tx, event: Event) -> list[str]:
    """Resolve the open waits the event matches; the runs resumed, each once."""
    candidates = tx.rows(
        "waits_for_event",
        namespace_id=event.namespace_id,
        event_name=event.event_name,
        keys=CODEC.list_param(waiting.event_keys(event.data)),
        received_at=CODEC.moment_param(event.received_at),
    )
    output = waiting.event_output(event)
    resumed: list[str] = []
    for wait in candidates:
        if not waiting.event_matches(event, wait["match"]):
            continue
        run_id, step_attempt_id = wait["workflow_run_id"], wait["step_attempt_id"]
        if waits.resolve(tx, step_attempt_id, run_id, output):
            waits.link(tx, event.event_id, run_id, step_attempt_id)
            if run_id not in resumed:
                resumed.append(run_id)
    return resumed


def get(tx: Tx, params: EventGetParams) -> Event:
    row = tx.row("event_get", namespace_id=params.namespace_id, event_id=params.event_id)
    if row is None:
        raise EventNotFound(params.namespace_id, params.event_id)
    return event_from_row(row, CODEC)


def list_events(tx: Tx, params: EventListParams) -> Page[Event]:
    rows = tx.rows_sql(*event_list_query(QUERIES, CODEC, params))
    return page_of(rows, params, event_from_row, CODEC)


def runs(tx: Tx, params: EventRunsParams) -> EventRuns:
    event = get(tx, EventGetParams(params.namespace_id, params.event_id))
    rows = tx.rows("event_runs", **event_runs_values(params, event.event_id, CODEC))
    return event_runs_from_rows(rows, params.limit, CODEC)
