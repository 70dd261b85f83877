"""Claiming due runs of a queue, in one BEGIN IMMEDIATE transaction.

The write lock serializes claims across threads and processes, so no candidate can
be taken by two claims: SQLite's answer to PostgreSQL's FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import timedelta

from storage.records import ClaimedRun, Run, RunClaimParams, RunClaimResult, RunStatus
from storage.rules import LEASE_EXPIRED_FAILURE, failure_to_json
from storage.sqlite.codec import interval, interval_micros, moment, run_from_row, step_from_row
from storage.sqlite.database import Tx
from storage.sqlite.endings import fail_open_steps, fail_past_deadline

# Due runs past their deadline are failed instead of claimed; a claim fails at most
# this many, and the maintenance sweep fails the rest.
_OVERDUE_FAILED_PER_CLAIM = 100

_LEASE_EXPIRED_JSON = failure_to_json(LEASE_EXPIRED_FAILURE)


def claim(tx: Tx, params: RunClaimParams) -> RunClaimResult:
    queue = _queue_filter(params)
    for row in tx.rows("run_claim_overdue", **queue, limit=_OVERDUE_FAILED_PER_CLAIM):
        fail_past_deadline(tx, row["id"])
    candidates = tx.rows("run_claim_candidates", **queue, limit=max(params.max_runs, 0))
    claimed = [_claim_one(tx, params, row) for row in candidates]
    return RunClaimResult(claimed, None if claimed else _next_due_in(tx, queue))


def _queue_filter(params: RunClaimParams) -> dict[str, object]:
    return {
        "namespace_id": params.namespace_id,
        "task_queue": params.task_queue,
        "any_workflow": not params.workflow_names,
        "workflow_names": json.dumps(list(params.workflow_names)),
    }


def _claim_one(tx: Tx, params: RunClaimParams, candidate: sqlite3.Row) -> ClaimedRun:
    run_id, was = candidate["id"], RunStatus(candidate["status"])
    lease_id = str(uuid.uuid4())
    lease_expires_at = tx.now + interval_micros(params.lease_duration)
    row = tx.one(
        "run_claim",
        run_id=run_id,
        expected_status=was.value,
        lease_id=lease_id,
        lease_expires_at=lease_expires_at,
        worker_id=params.worker_id,
    )
    _settle_open_steps(tx, run_id, was)
    steps = [step_from_row(step) for step in tx.rows("steps_of_run", run_id=run_id)]
    run = run_from_row(row)
    _report_claim(tx, run, was, waited_micros=tx.now - candidate["available_at"])
    return ClaimedRun(run, lease_id, moment(lease_expires_at), steps)


def _report_claim(tx: Tx, run: Run, was: RunStatus, waited_micros: int) -> None:
    tx.events.run_claimed(run.namespace_id, run.task_queue, waited_micros / 1_000_000)
    if was is RunStatus.RUNNING:
        tx.events.lease_expired(run.namespace_id, run.workflow_name)


def _settle_open_steps(tx: Tx, run_id: str, was: RunStatus) -> None:
    if was is RunStatus.SLEEPING:
        tx.execute("steps_complete_open_sleep", run_id=run_id)
    elif was is RunStatus.RUNNING:
        # The previous worker's lease expired: whatever it had open is lost.
        fail_open_steps(tx, run_id, _LEASE_EXPIRED_JSON)


def _next_due_in(tx: Tx, queue: dict[str, object]) -> timedelta | None:
    next_at = tx.one("run_next_available_at", **queue)["next_available_at"]
    return None if next_at is None else interval(next_at - tx.now)
