"""Keyset pages on PostgreSQL: runs of a namespace, step attempts of a run.

The statement is assembled from named fragments of queries.sql, so that only the
filters that are set appear in it (values are always bound, never spliced).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from storage.postgres.rows import Row
from storage.postgres.transitions import Q
from storage.records import Cursor, Page, RunFilter

T = TypeVar("T")


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
