"""Retention on PostgreSQL: one batch of expired runs deleted per transaction, by one
server at a time (the retention advisory lock, taken with try: never waited for)."""

from __future__ import annotations

from storage.postgres.database import Database, fetch_one
from storage.retention import RETENTION_LOCK_KEY, RunDeleteExpiredParams, RunDeleteExpiredResult


async def delete_expired(db: Database, params: RunDeleteExpiredParams) -> RunDeleteExpiredResult:
    async with db.transaction() as conn:
        lock = await fetch_one(conn, "retention_lock", {"lock_key": RETENTION_LOCK_KEY})
        if lock is None or not lock["granted"]:
            return RunDeleteExpiredResult(deleted=0, busy=True)
        values = {"namespace_id": params.namespace_id, "limit": max(params.limit, 0)}
        row = await fetch_one(conn, "runs_delete_expired", values)
    return RunDeleteExpiredResult(deleted=0 if row is None else int(row["deleted"]))
