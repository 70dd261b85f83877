"""How an execution ends: completed, retried, failed, or failed by its deadline.

Whenever a run leaves RUNNING, its open step attempts are closed FAILED with a
Failure saying why.
"""

from __future__ import annotations

from storage.errors import LeaseLost
from storage.records import Failure, Json, Lease, Run, RunStatus
from storage.rules import ABANDONED_FAILURE, DEADLINE_FAILURE, failure_to_json, retry_at
from storage.sqlite.codec import micros, run_from_row
from storage.sqlite.database import Tx

_DEADLINE_JSON = failure_to_json(DEADLINE_FAILURE)
_ABANDONED_JSON = failure_to_json(ABANDONED_FAILURE)


def fail_open_steps(tx: Tx, run_id: str, failure_json: str) -> None:
    tx.execute("steps_fail_open", run_id=run_id, error=failure_json)


def abandon_open_steps(tx: Tx, run_id: str) -> None:
    """The worker ended (or parked) the execution with these attempts still open."""
    fail_open_steps(tx, run_id, _ABANDONED_JSON)


def fail_past_deadline(tx: Tx, run_id: str) -> bool:
    """FAILED with DEADLINE_FAILURE, if the run is still active and past its deadline."""
    failed = tx.row("run_fail_past_deadline", run_id=run_id, error=_DEADLINE_JSON)
    if failed is None:
        return False
    fail_open_steps(tx, run_id, _DEADLINE_JSON)
    tx.events.run_ended(failed["namespace_id"], failed["workflow_name"], RunStatus.FAILED)
    return True


def fail_overdue(tx: Tx, limit: int) -> int:
    overdue = tx.rows("run_overdue", limit=max(limit, 0))
    return sum(fail_past_deadline(tx, row["id"]) for row in overdue)


def complete(tx: Tx, run: Run, lease: Lease, output: Json | None) -> Run:
    abandon_open_steps(tx, run.run_id)
    return _ended(tx, fenced_update(tx, "run_complete", run, lease, output=output))


def end_with_failure(tx: Tx, run: Run, lease: Lease, error: Failure) -> Run:
    """Retry the run by its policy (PENDING, attempt + 1) or fail it for good."""
    abandon_open_steps(tx, run.run_id)
    error_json = failure_to_json(error)
    at = retry_at(run.retry_policy, run.attempt, run.deadline_at, error, tx.now_at)
    if at is None:
        return _ended(tx, fenced_update(tx, "run_fail", run, lease, error=error_json))
    return fenced_update(tx, "run_retry", run, lease, error=error_json, available_at=micros(at))


def _ended(tx: Tx, run: Run) -> Run:
    """Report the run's terminal transition, which `tx` made."""
    tx.events.run_ended(run.namespace_id, run.workflow_name, run.status)
    return run


def fenced_update(tx: Tx, name: str, run: Run, lease: Lease, **params: object) -> Run:
    """Run a write whose WHERE clause repeats the fence; no row means the lease is lost."""
    row = tx.row(
        name, run_id=run.run_id, lease_id=lease.lease_id, worker_id=lease.worker_id, **params
    )
    if row is None:
        raise LeaseLost(run.run_id, run.status)
    return run_from_row(row)
