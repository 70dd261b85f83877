"""Claiming due runs of a queue: one statement, FOR NO KEY UPDATE SKIP LOCKED.

Concurrent claims skip the rows others hold instead of waiting for them, so no run is
taken twice and no claim waits behind another. The claim commits alone (autocommit):
from then on the claimed runs' leases are this claim's, so their step history, read
after it, cannot change under it; and a fresh run has none to read, so claiming new
work is one round trip.
"""

from __future__ import annotations

from storage.events import StoreEvents
from storage.postgres.codec import CODEC
from storage.postgres.database import Database, Row
from storage.records import RunClaimParams, RunClaimResult, RunStatus
from storage.rows import claimed_runs, next_due_in
from storage.rules import (
    ABANDONED_ERROR,
    DEADLINE_ERROR,
    LEASE_EXPIRED_ERROR,
    WORKER_CRASHED_ERROR,
)


async def claim(db: Database, params: RunClaimParams) -> RunClaimResult:
    query = {
        "namespace_id": params.namespace_id,
        "task_queue": params.task_queue,
        "workflow_names": list(params.workflow_names) or None,
        "max_runs": params.max_runs,
        "lease_duration": params.lease_duration,
        "worker_id": params.worker_id,
        "deadline_error": DEADLINE_ERROR,
        "lease_expired_error": LEASE_EXPIRED_ERROR,
        "abandoned_error": ABANDONED_ERROR,
        "max_crashes": params.max_crashes,
        "crashed_error": WORKER_CRASHED_ERROR,
    }
    # Runs failed by their deadline come back too; only RUNNING ones are claimed.
    changed = await db.fetch("run_claim", query)
    _report(db.events, changed)
    rows = [r for r in changed if r["status"] == "RUNNING"]
    with_history = [r["id"] for r in rows if r["has_steps"]]
    steps = await db.fetch("steps_of_runs", {"run_ids": with_history}) if with_history else []
    if rows:
        return RunClaimResult(claimed=claimed_runs(rows, steps, CODEC), next_due_in=None)
    due = await db.fetch_one("run_next_due", query)
    return RunClaimResult(claimed=[], next_due_in=None if due is None else next_due_in(due, CODEC))


def _report(events: StoreEvents, rows: list[Row]) -> None:
    """Report what a run_claim statement did: claims, lease expiries, deadline failures,
    poison runs failed or put back with their workflow paused."""
    for row in rows:
        if row["ending"] == "PAUSED":
            events.lease_expired(row["namespace_id"], row["workflow_name"])
            events.run_poison_paused(row["namespace_id"], row["workflow_name"])
            continue
        if row["status"] == RunStatus.FAILED:
            crashed = row["ending"] == "CRASHED"
            if crashed:
                events.lease_expired(row["namespace_id"], row["workflow_name"])
            events.run_ended(row["namespace_id"], row["workflow_name"], RunStatus.FAILED)
            if crashed:
                events.run_poisoned(row["namespace_id"], row["workflow_name"])
            continue
        events.run_claimed(row["namespace_id"], row["task_queue"], row["claim_wait"])
        if row["previous_status"] == RunStatus.RUNNING:
            events.lease_expired(row["namespace_id"], row["workflow_name"])
