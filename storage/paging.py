"""Keyset pages for every backend: the statement for one page of a list, and the page
built from its rows.

A list statement (run_list, step_list in queries.sql) has `{filters}` and `{order}`
placeholders; the pieces that fill them (run_filter_*, keyset_*) are named statements
of the same file. Only the filters that are set appear, so the planner picks the index
that serves both the filter and the order; values are always bound, never spliced, and
encoded by the backend's Codec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from storage.records import (
    Cursor,
    EventListParams,
    Page,
    RunBatchParams,
    RunBatchResult,
    RunFilter,
    RunListParams,
    StepListParams,
)
from storage.rows import Codec, Row

T = TypeVar("T")

Statement = tuple[str, dict[str, Any]]
"""A statement and its values."""


def run_list_query(queries: Mapping[str, str], codec: Codec, params: RunListParams) -> Statement:
    fragments, values = run_filter(queries, codec, params.filter)
    values["namespace_id"] = params.namespace_id
    return _keyset_query(queries, codec, "run_list", fragments, values, params)


def step_list_query(queries: Mapping[str, str], codec: Codec, params: StepListParams) -> Statement:
    values: dict[str, Any] = {"run_id": codec.id_param(params.run_id)}
    return _keyset_query(queries, codec, "step_list", [], values, params)


def event_list_query(
    queries: Mapping[str, str], codec: Codec, params: EventListParams
) -> Statement:
    chosen: dict[str, Any] = {
        "event_name": params.event_name,
        "received_after": codec.moment_param_or_none(params.received_after),
        "received_before": codec.moment_param_or_none(params.received_before),
    }
    values = {name: value for name, value in chosen.items() if value is not None}
    fragments = [queries[f"event_filter_{name}"] for name in values]
    values["namespace_id"] = params.namespace_id
    return _keyset_query(queries, codec, "event_list", fragments, values, params)


def run_filter(
    queries: Mapping[str, str], codec: Codec, wanted: RunFilter
) -> tuple[list[str], dict[str, Any]]:
    """The WHERE pieces and values of the filters that are set."""
    statuses = sorted({status.value for status in wanted.statuses})
    chosen: dict[str, Any] = {
        "status": statuses[0] if len(statuses) == 1 else None,
        "statuses": codec.list_param(statuses) if len(statuses) > 1 else None,
        "workflow_name": wanted.workflow_name,
        "task_queue": wanted.task_queue,
        "created_after": codec.moment_param_or_none(wanted.created_after),
        "created_before": codec.moment_param_or_none(wanted.created_before),
        "replay_of_run_id": (
            None if wanted.replay_of_run_id is None else codec.id_param(wanted.replay_of_run_id)
        ),
        "parent_run_id": (
            None if wanted.parent_run_id is None else codec.id_param(wanted.parent_run_id)
        ),
    }
    values = {name: value for name, value in chosen.items() if value is not None}
    return [queries[f"run_filter_{name}"] for name in values], values


def run_batch_query(
    queries: Mapping[str, str],
    codec: Codec,
    query: str,
    params: RunBatchParams,
    *,
    after: Cursor | None,
    limit: int,
    as_of: Any,
) -> Statement:
    """A batch statement (run_batch_pick, run_batch_cancel) for the next `limit` runs
    matching the filters after `after`, created before `as_of` (a statement parameter;
    None asks PostgreSQL's for its own clock)."""
    fragments, values = run_filter(queries, codec, params.filter)
    fragments.append(queries["run_batch_as_of"])
    values.update(namespace_id=params.namespace_id, as_of=as_of, limit=max(limit, 0))
    if after is not None:
        fragments.append(queries["keyset_after"])
        values.update(cursor_created_at=codec.moment_param(after.created_at), cursor_id=after.id)
    return queries[query].format(filters="\n    ".join(fragments)), values


def last_of(picked: Sequence[Row], codec: Codec) -> Cursor | None:
    """The cursor after a chunk's last run (`id`, `created_at`), None for an empty chunk."""
    if not picked:
        return None
    return Cursor(codec.moment(picked[-1]["created_at"]), picked[-1]["id"], forward=True)


def batch_result(
    picked: Sequence[Row],
    run_ids: list[str],
    has_more: bool,
    as_of: datetime | None,
    codec: Codec,
) -> RunBatchResult:
    """A chunk's answer: it acted on `run_ids` (a cancel: those runs; a replay: the new
    runs), and skipped the rest of the runs it `picked`."""
    return RunBatchResult(
        run_ids=run_ids,
        affected=len(run_ids),
        skipped=len(picked) - len(run_ids),
        last=last_of(picked, codec),
        has_more=has_more,
        as_of=as_of,
    )


def _keyset_query(
    queries: Mapping[str, str],
    codec: Codec,
    query: str,
    fragments: list[str],
    values: dict[str, Any],
    params: RunListParams | StepListParams | EventListParams,
) -> Statement:
    """The statement and values for the page after (forward) or before the cursor, asking
    one row more than the page so that it knows whether more lie that way."""
    cursor = params.cursor
    forward = cursor is None or cursor.forward
    if cursor is not None:
        fragments = [*fragments, queries["keyset_after" if forward else "keyset_before"]]
        values = {
            **values,
            "cursor_created_at": codec.moment_param(cursor.created_at),
            "cursor_id": cursor.id,
        }
    order = queries["keyset_ascending" if forward else "keyset_descending"]
    statement = queries[query].format(filters="\n    ".join(fragments), order=order)
    return statement, {**values, "limit": max(params.limit, 0) + 1}


def page_of(
    rows: Sequence[Row],
    params: RunListParams | StepListParams | EventListParams,
    convert: Callable[[Row, Codec], T],
    codec: Codec,
) -> Page[T]:
    """The page of a list statement's rows (`convert`ed to records), in ascending order
    whichever way it went."""
    cursor, limit = params.cursor, max(params.limit, 0)
    more = len(rows) > limit
    items = [convert(row, codec) for row in rows[:limit]]
    if cursor is None or cursor.forward:
        return Page(items, has_next=more, has_prev=cursor is not None)
    items.reverse()
    return Page(items, has_next=True, has_prev=more)
