"""Batches over the runs matching the list filters, one chunk per transaction: picking a
chunk, whether more runs lie beyond it, and a chunk of a batch cancel.

A chunk is the next `limit` matching runs after the previous chunk's last, oldest
first, among the runs created before the batch's first chunk began. A cancel chunk is
one statement: it locks its runs' rows (never the table) until it commits, and claims
skip locked rows, so a worker claiming meanwhile is not held up.
"""

from __future__ import annotations

from datetime import datetime

from storage import rules
from storage.paging import batch_result, last_of, run_batch_query
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Database, Q, Row, fetch_sql
from storage.records import RunBatchCancelParams, RunBatchParams, RunBatchResult, RunStatus


async def pick(conn: Conn, batch: RunBatchParams) -> list[Row]:
    """The chunk's runs (id, created_at, status, context, and the clock, db_now)."""
    statement = run_batch_query(
        Q, CODEC, "run_batch_pick", batch, after=batch.after, limit=batch.limit, as_of=batch.as_of
    )
    return await fetch_sql(conn, *statement)


def bound(batch: RunBatchParams, picked: list[Row]) -> datetime | None:
    """The batch's upper bound on created_at: from its first chunk, which is this one
    when the batch has none yet (None when it matched nothing, so has nothing to follow)."""
    if batch.as_of is not None:
        return batch.as_of
    return picked[0]["db_now"] if picked else None


async def more_after(
    conn: Conn, batch: RunBatchParams, picked: list[Row], as_of: datetime | None
) -> bool:
    """Whether a matching run lies after the chunk's last one."""
    last = last_of(picked, CODEC)
    if last is None:
        return False
    statement = run_batch_query(Q, CODEC, "run_batch_pick", batch, after=last, limit=1, as_of=as_of)
    return bool(await fetch_sql(conn, *statement))


async def cancel(db: Database, params: RunBatchCancelParams) -> RunBatchResult:
    """Cancel the chunk's active runs (a dry run only lists them); terminal runs are skipped."""
    batch = params.batch
    async with db.connection() as conn:
        if batch.dry_run:
            picked = await pick(conn, batch)
            acted = [row["id"] for row in picked if not RunStatus(row["status"]).is_terminal]
        else:
            picked = await _cancel_chunk(conn, params)
            acted = [row["id"] for row in picked if row["workflow_name"] is not None]
        as_of = bound(batch, picked)
        more = await more_after(conn, batch, picked, as_of)
    if not batch.dry_run:
        for row in picked:
            if row["workflow_name"] is not None:
                db.events.run_ended(row["namespace_id"], row["workflow_name"], RunStatus.CANCELED)
    return batch_result(picked, acted, more, as_of, CODEC)


async def _cancel_chunk(conn: Conn, params: RunBatchCancelParams) -> list[Row]:
    """run_batch_cancel, alone in autocommit: one statement, one transaction."""
    batch = params.batch
    statement, values = run_batch_query(
        Q, CODEC, "run_batch_cancel", batch, after=batch.after, limit=batch.limit, as_of=batch.as_of
    )
    error = rules.failure_to_json(rules.cancel_failure(params.reason))
    return await fetch_sql(conn, statement, {**values, "error": error})
