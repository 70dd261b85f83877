"""Reads: keyset pages of a namespace's runs and of a run's step attempts; queue depths.

The statement is assembled from named fragments of queries.sql, so that only the
filters that are set appear in it (values are always bound, never spliced).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from storage.errors import StepAttemptNotFound
from storage.postgres.codec import CODEC
from storage.postgres.database import Database, Q, Row
from storage.postgres.runs import get as run_get
from storage.records import (
    Cursor,
    Page,
    QueueDepth,
    Run,
    RunFilter,
    RunGetParams,
    RunListParams,
    StepAttempt,
    StepGetParams,
    StepListParams,
)
from storage.rows import queue_depth_from_row, run_from_row, step_from_row

T = TypeVar("T")


async def list_runs(db: Database, params: RunListParams) -> Page[Run]:
    fragments, values = run_filter(params.filter)
    values["namespace_id"] = params.namespace_id
    statement, values = keyset_query("run_list", fragments, values, params.cursor, params.limit)
    rows = await db.fetch_sql(statement, values)
    return page_of(rows, params.limit, params.cursor, lambda r: run_from_row(r, CODEC))


async def get_step(db: Database, params: StepGetParams) -> StepAttempt:
    await run_get(db, RunGetParams(params.namespace_id, params.run_id))
    row = await db.fetch_one(
        "step_get",
        {
            "run_id": CODEC.id_param(params.run_id),
            "step_attempt_id": CODEC.id_param(params.step_attempt_id),
        },
    )
    if row is None:
        raise StepAttemptNotFound(params.run_id, params.step_attempt_id)
    return step_from_row(row, CODEC)


async def list_steps(db: Database, params: StepListParams) -> Page[StepAttempt]:
    await run_get(db, RunGetParams(params.namespace_id, params.run_id))
    statement, values = keyset_query(
        "step_list", [], {"run_id": params.run_id}, params.cursor, params.limit
    )
    rows = await db.fetch_sql(statement, values)
    return page_of(rows, params.limit, params.cursor, lambda r: step_from_row(r, CODEC))


async def count_by_queue(db: Database) -> list[QueueDepth]:
    return [queue_depth_from_row(row) for row in await db.fetch("run_count_by_queue", {})]


def run_filter(wanted: RunFilter) -> tuple[list[str], dict[str, Any]]:
    """The WHERE fragments and values of the filters that are set."""
    statuses = sorted({status.value for status in wanted.statuses})
    chosen: dict[str, Any] = {
        "status": statuses[0] if len(statuses) == 1 else None,
        "statuses": statuses if len(statuses) > 1 else None,
        "workflow_name": wanted.workflow_name,
        "task_queue": wanted.task_queue,
        "created_after": wanted.created_after,
        "created_before": wanted.created_before,
    }
    values = {name: value for name, value in chosen.items() if value is not None}
    return [Q[f"run_filter_{name}"] for name in values], values


def keyset_query(
    query: str, fragments: list[str], values: dict[str, Any], cursor: Cursor | None, limit: int
) -> tuple[str, dict[str, Any]]:
    """The statement and values for the page after (forward) or before the cursor, asking
    one row more than the page so that it knows whether more lie that way."""
    forward = cursor is None or cursor.forward
    if cursor is not None:
        fragments = [*fragments, Q["keyset_after" if forward else "keyset_before"]]
        values = {**values, "cursor_created_at": cursor.created_at, "cursor_id": cursor.id}
    order = Q["keyset_ascending" if forward else "keyset_descending"]
    statement = Q[query].format(filters="\n    ".join(fragments), order=order)
    return statement, {**values, "limit": limit + 1}


def page_of(
    rows: list[Row], limit: int, cursor: Cursor | None, convert: Callable[[Row], T]
) -> Page[T]:
    more = len(rows) > limit
    rows = rows[:limit]
    if cursor is None or cursor.forward:
        return Page([convert(r) for r in rows], has_next=more, has_prev=cursor is not None)
    rows.reverse()
    return Page([convert(r) for r in rows], has_next=True, has_prev=more)
