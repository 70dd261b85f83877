"""What PostgreSQL statements changed, reported to the store's events once committed."""

from __future__ import annotations

from storage.events import StoreEvents
from storage.postgres.rows import Row
from storage.records import QueueDepth, Run, RunStatus


def overdue_failed(events: StoreEvents, rows: list[Row]) -> int:
    """Report the runs a deadline statement failed (rows grouped by workflow); how many."""
    for row in rows:
        for _ in range(row["failed"]):
            events.run_ended(row["namespace_id"], row["workflow_name"], RunStatus.FAILED)
    return sum(int(row["failed"]) for row in rows)


def claims(events: StoreEvents, rows: list[Row]) -> None:
    """Report what a run_claim statement did: claims, lease expiries, deadline failures."""
    for row in rows:
        if row["status"] == RunStatus.FAILED:
            events.run_ended(row["namespace_id"], row["workflow_name"], RunStatus.FAILED)
            continue
        events.run_claimed(row["namespace_id"], row["task_queue"], row["claim_wait"])
        if row["previous_status"] == RunStatus.RUNNING:
            events.lease_expired(row["namespace_id"], row["workflow_name"])


def ended(events: StoreEvents, run: Run) -> Run:
    """Report `run` if the call that returned it ended it."""
    if run.status.is_terminal:
        events.run_ended(run.namespace_id, run.workflow_name, run.status)
    return run


def queue_depth(row: Row) -> QueueDepth:
    return QueueDepth(row["namespace_id"], row["task_queue"], RunStatus(row["status"]), row["runs"])
