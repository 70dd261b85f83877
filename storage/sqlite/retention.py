"""Retention on SQLite: one batch of expired runs deleted per write transaction. The
write lock is the guard: two processes on one file take turns, batch by batch, and each
run is deleted and counted once, by the transaction that found it."""

from __future__ import annotations

import json

from storage.retention import RunDeleteExpiredParams, RunDeleteExpiredResult
from storage.sqlite.database import Tx


def delete_expired(tx: Tx, params: RunDeleteExpiredParams) -> RunDeleteExpiredResult:
    picked = tx.rows(
        "runs_pick_expired", namespace_id=params.namespace_id, limit=max(params.limit, 0)
    )
    if not picked:
        return RunDeleteExpiredResult(deleted=0)
    run_ids = json.dumps([row["id"] for row in picked])
    tx.execute("event_runs_delete_of_runs", run_ids=run_ids)
    return RunDeleteExpiredResult(deleted=tx.execute("runs_delete_by_ids", run_ids=run_ids))
