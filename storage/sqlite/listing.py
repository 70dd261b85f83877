"""Reads: keyset pages of a namespace's runs and of a run's step attempts; queue depths."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import TypeVar

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
from storage.sqlite.attempts import attempt_by_id
from storage.sqlite.codec import CODEC, micros
from storage.sqlite.database import QUERIES, Tx
from storage.sqlite.runs import get as run_get

T = TypeVar("T")


def list_runs(tx: Tx, params: RunListParams) -> Page[Run]:
    fragments, values = run_filter(params.filter)
    values["namespace_id"] = params.namespace_id
    page = _keyset_page(tx, "run_list", fragments, values, params.cursor, params.limit)
    return _mapped(page, lambda row: run_from_row(row, CODEC))


def run_filter(wanted: RunFilter) -> tuple[list[str], dict[str, object]]:
    """The WHERE fragments and values of the filters that are set."""
    statuses = sorted({status.value for status in wanted.statuses})
    chosen = {
        "status": statuses[0] if len(statuses) == 1 else None,
        "statuses": json.dumps(statuses) if len(statuses) > 1 else None,
        "workflow_name": wanted.workflow_name,
        "task_queue": wanted.task_queue,
        "created_after": None if wanted.created_after is None else micros(wanted.created_after),
        "created_before": None if wanted.created_before is None else micros(wanted.created_before),
    }
    values: dict[str, object] = {name: v for name, v in chosen.items() if v is not None}
    return [QUERIES[f"run_filter_{name}"] for name in values], values


def get_step(tx: Tx, params: StepGetParams) -> StepAttempt:
    run_get(tx, RunGetParams(params.namespace_id, params.run_id))
    return attempt_by_id(tx, params.run_id, params.step_attempt_id)


def list_steps(tx: Tx, params: StepListParams) -> Page[StepAttempt]:
    run_get(tx, RunGetParams(params.namespace_id, params.run_id))
    values: dict[str, object] = {"run_id": params.run_id}
    page = _keyset_page(tx, "step_list", [], values, params.cursor, params.limit)
    return _mapped(page, lambda row: step_from_row(row, CODEC))


def _keyset_page(
    tx: Tx,
    query: str,
    fragments: list[str],
    values: dict[str, object],
    cursor: Cursor | None,
    limit: int,
) -> Page[sqlite3.Row]:
    """Rows after (forward) or before (backward) the cursor, one more than asked so that
    the page knows whether more lie in the direction of travel."""
    forward = cursor is None or cursor.forward
    rows = tx.rows_sql(*keyset_query(query, fragments, values, cursor, limit))
    more = len(rows) > limit
    rows = rows[: max(limit, 0)]
    if forward:
        return Page(rows, has_next=more, has_prev=cursor is not None)
    rows.reverse()
    return Page(rows, has_next=True, has_prev=more)


def keyset_query(
    query: str, fragments: list[str], values: dict[str, object], cursor: Cursor | None, limit: int
) -> tuple[str, dict[str, object]]:
    """The statement and values for the page after (forward) or before the cursor, asking
    one row more than the page."""
    forward = cursor is None or cursor.forward
    if cursor is not None:
        fragments = [*fragments, QUERIES["keyset_after" if forward else "keyset_before"]]
        values = {**values, "cursor_created_at": micros(cursor.created_at), "cursor_id": cursor.id}
    order = QUERIES["keyset_ascending" if forward else "keyset_descending"]
    statement = QUERIES[query].format(filters="\n  ".join(fragments), order=order)
    return statement, {**values, "limit": max(limit, 0) + 1}


def _mapped(page: Page[sqlite3.Row], convert: Callable[[sqlite3.Row], T]) -> Page[T]:
    return Page([convert(row) for row in page.items], page.has_next, page.has_prev)


def count_by_queue(tx: Tx) -> list[QueueDepth]:
    return [queue_depth_from_row(row) for row in tx.rows("run_count_by_queue")]
