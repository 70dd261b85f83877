"""Claiming due runs of a queue, in one BEGIN IMMEDIATE transaction.

The write lock serializes claims across threads and processes, so no candidate can
be taken by two claims: SQLite's answer to PostgreSQL's FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import sqlite3
import uuid

from storage.records import RunClaimParams, RunClaimResult, RunStatus
from storage.registry import PoisonAction
from storage.rows import claimed_runs, next_due_in
from storage.rules import LEASE_EXPIRED_ERROR, WORKER_CRASHED_ERROR
from storage.sqlite.codec import CODEC, interval_micros
from storage.sqlite.database import Tx
from storage.sqlite.endings import close_open_steps, fail_overdue_one


def claim(tx: Tx, params: RunClaimParams) -> RunClaimResult:
    queue = _queue_filter(params)
    for row in tx.rows("run_claim_overdue", **queue):
        fail_overdue_one(tx, row["id"])
    candidates = []
    for candidate in tx.rows("run_claim_candidates", **queue, limit=max(params.max_runs, 0)):
        if not _poisoned(params, candidate):
            if not candidate["limited"] or _slot_taken(tx, params, candidate):
                candidates.append(candidate)
        elif candidate["on_poison"] == PoisonAction.PAUSE:
            _put_back_and_pause(tx, candidate)
        else:
            _fail_crashed(tx, candidate)
    if not candidates:
        return RunClaimResult([], next_due_in(tx.one("run_next_due", **queue), CODEC))
    rows = [_claim_one(tx, params, candidate) for candidate in candidates]
    steps = tx.rows("steps_of_runs", run_ids=CODEC.list_param([row["id"] for row in rows]))
    return RunClaimResult(claimed_runs(rows, steps, CODEC), None)


def _queue_filter(params: RunClaimParams) -> dict[str, object]:
    return {
        "namespace_id": params.namespace_id,
        "task_queue": params.task_queue,
        # Whose registration decides the versions claimed (the claimable fragment).
        "worker_id": params.worker_id,
        "any_workflow": not params.workflow_names,
        "workflow_names": CODEC.list_param(list(params.workflow_names)),
    }


def _claim_one(tx: Tx, params: RunClaimParams, candidate: sqlite3.Row) -> sqlite3.Row:
    """Claim one candidate; its row, as claimed."""
    run_id, was = candidate["id"], RunStatus(candidate["status"])
    row = tx.one(
        "run_claim",
        run_id=run_id,
        expected_status=was.value,
        lease_id=str(uuid.uuid4()),
        lease_expires_at=tx.now + interval_micros(params.lease_duration),
        worker_id=params.worker_id,
        crashes=candidate["crashes"],
        takes_slot=bool(candidate["limited"]),
    )
    _settle_open_steps(tx, run_id, was)
    tx.events.run_claimed(
        row["namespace_id"], row["task_queue"], (tx.now - candidate["available_at"]) / 1_000_000
    )
    if was is RunStatus.RUNNING:
        tx.events.lease_expired(row["namespace_id"], row["workflow_name"])
    return row


def _slot_taken(tx: Tx, params: RunClaimParams, candidate: sqlite3.Row) -> bool:
    """Whether a due run of a workflow with limits got a slot (candidates come oldest first
    within each priority, so the oldest run of a key gets it)."""
    taken = tx.rows(
        "run_slot_take",
        run_id=candidate["id"],
        namespace_id=params.namespace_id,
        workflow_name=candidate["workflow_name"],
        concurrency_key=candidate["concurrency_key"],
    )
    return bool(taken)


def _poisoned(params: RunClaimParams, candidate: sqlite3.Row) -> bool:
    """Whether an expired lease's run reached its crash limit: its definition's, else the
    server's (0: no limit)."""
    crashes = candidate["crashes"]
    limit = candidate["crash_limit"]
    if limit is None:
        limit = params.max_crashes
    return crashes is not None and limit > 0 and crashes >= limit


def _put_back_and_pause(tx: Tx, candidate: sqlite3.Row) -> None:
    """A poison run of a definition with on_poison PAUSE: back to PENDING, and its
    workflow paused."""
    row = tx.one("run_put_back_poisoned", run_id=candidate["id"], crashes=candidate["crashes"])
    close_open_steps(tx, row["id"], LEASE_EXPIRED_ERROR)
    tx.execute(
        "workflow_pause_poisoned",
        namespace_id=row["namespace_id"],
        workflow_name=row["workflow_name"],
        run_id=row["id"],
        crashes=row["crash_count"],
    )
    tx.events.lease_expired(row["namespace_id"], row["workflow_name"])
    tx.events.run_poison_paused(row["namespace_id"], row["workflow_name"])


def _fail_crashed(tx: Tx, candidate: sqlite3.Row) -> None:
    """A poison run: FAILED with WORKER_CRASHED instead of claimed again."""
    row = tx.one(
        "run_fail_crashed",
        run_id=candidate["id"],
        error=WORKER_CRASHED_ERROR,
        crashes=candidate["crashes"],
    )
    close_open_steps(tx, row["id"], LEASE_EXPIRED_ERROR)
    tx.events.lease_expired(row["namespace_id"], row["workflow_name"])
    tx.events.run_ended(row["namespace_id"], row["workflow_name"], RunStatus.FAILED)
    tx.events.run_poisoned(row["namespace_id"], row["workflow_name"])


def _settle_open_steps(tx: Tx, run_id: str, was: RunStatus) -> None:
    if was is RunStatus.SLEEPING:
        tx.execute("steps_complete_open_sleep", run_id=run_id)
    elif was is RunStatus.RUNNING:
        # The previous worker's lease expired: whatever it had open is lost.
        close_open_steps(tx, run_id, LEASE_EXPIRED_ERROR)
