"""Batches over the runs matching the list filters, one chunk per transaction: picking a
chunk, whether more runs lie beyond it, and a chunk of a batch cancel.

A chunk is the next `limit` matching runs after the previous chunk's last, oldest
first, among the runs created before the batch's first chunk began. It runs under the
write lock (BEGIN IMMEDIATE; a dry run reads a snapshot), so a claim waits at most one
chunk.
"""

from __future__ import annotations

import sqlite3

from storage import rules
from storage.paging import batch_result, last_of, run_batch_query
from storage.records import RunBatchCancelParams, RunBatchParams, RunBatchResult, RunStatus
from storage.sqlite.codec import CODEC, micros, moment
from storage.sqlite.database import QUERIES, Tx


def bound(tx: Tx, batch: RunBatchParams) -> int:
    """The batch's upper bound on created_at: from its first chunk, which is this one
    when the batch has none yet."""
    return tx.now if batch.as_of is None else micros(batch.as_of)


def pick(tx: Tx, batch: RunBatchParams, as_of: int) -> list[sqlite3.Row]:
    """The chunk's runs (id, created_at, status, context), oldest first."""
    statement = run_batch_query(
        QUERIES, CODEC, "run_batch_pick", batch, after=batch.after, limit=batch.limit, as_of=as_of
    )
    return tx.rows_sql(*statement)


def more_after(tx: Tx, batch: RunBatchParams, picked: list[sqlite3.Row], as_of: int) -> bool:
    """Whether a matching run lies after the chunk's last one."""
    last = last_of(picked, CODEC)
    if last is None:
        return False
    statement = run_batch_query(
        QUERIES, CODEC, "run_batch_pick", batch, after=last, limit=1, as_of=as_of
    )
    return bool(tx.rows_sql(*statement))


def cancel(tx: Tx, params: RunBatchCancelParams) -> RunBatchResult:
    """Cancel the chunk's active runs (a dry run only lists them); terminal runs are skipped."""
    batch = params.batch
    as_of = bound(tx, batch)
    picked = pick(tx, batch, as_of)
    active = [row["id"] for row in picked if not RunStatus(row["status"]).is_terminal]
    if not batch.dry_run and active:
        error = rules.failure_to_json(rules.cancel_failure(params.reason))
        run_ids = CODEC.list_param(active)
        canceled = tx.rows("run_batch_cancel", run_ids=run_ids, error=error)
        tx.execute("steps_close_open_of_runs", run_ids=run_ids, error=error)
        for row in canceled:
            tx.events.run_ended(row["namespace_id"], row["workflow_name"], RunStatus.CANCELED)
    return batch_result(picked, active, more_after(tx, batch, picked, as_of), moment(as_of), CODEC)
