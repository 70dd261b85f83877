"""How an execution ends: completed, retried, failed, parked; runs failed by their deadline.

Whenever a run leaves RUNNING, its open step attempts are closed FAILED with a
Failure saying why.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from storage import rules
from storage.errors import LeaseLost
from storage.records import Failure, Json, Lease, Run, RunStatus
from storage.rows import end_execution_params, lease_params, run_from_row
from storage.rules import ABANDONED_ERROR, DEADLINE_ERROR
from storage.sqlite.codec import CODEC
from storage.sqlite.database import Tx


def close_open_steps(tx: Tx, run_id: str, failure_json: str) -> None:
    """Fail the run's open attempts with `failure_json` (the run leaves RUNNING)."""
    tx.execute("steps_close_open", run_id=run_id, error=failure_json)


def abandon_open_steps(tx: Tx, run_id: str) -> None:
    """The worker ended (or parked) the execution with these attempts still open."""
    close_open_steps(tx, run_id, ABANDONED_ERROR)


def fail_overdue_one(tx: Tx, run_id: str) -> bool:
    """FAILED with DEADLINE_FAILURE, if the run is still active and past its deadline."""
    failed = tx.rows("run_fail_overdue_one", run_id=run_id, error=DEADLINE_ERROR)
    return _deadline_failed(tx, failed) > 0


def fail_overdue(tx: Tx, limit: int) -> int:
    """The sweep: fail up to `limit` runs past their deadline; return how many."""
    failed = tx.rows("run_fail_overdue", limit=max(limit, 0), error=DEADLINE_ERROR)
    return _deadline_failed(tx, failed)


def _deadline_failed(tx: Tx, rows: list[sqlite3.Row]) -> int:
    """Close the open attempts of the runs a deadline statement failed, and report them."""
    for row in rows:
        close_open_steps(tx, row["id"], DEADLINE_ERROR)
        tx.events.run_ended(row["namespace_id"], row["workflow_name"], RunStatus.FAILED)
    return len(rows)


def complete(tx: Tx, run: Run, lease: Lease, output: Json | None) -> Run:
    abandon_open_steps(tx, run.run_id)
    return _ended(tx, fenced_update(tx, "run_complete", run, lease, output=output))


def end_with_failure(tx: Tx, run: Run, lease: Lease, error: Failure) -> Run:
    """Retry the run by its policy (PENDING, attempt + 1) or fail it for good."""
    abandon_open_steps(tx, run.run_id)
    ended = end_execution(tx, run, lease, rules.failed_ending(run, error, tx.now_at))
    return _ended(tx, ended) if ended.status.is_terminal else ended


def end_execution(tx: Tx, run: Run, lease: Lease, ending: rules.Ending) -> Run:
    """End the lease's execution: the run leaves RUNNING by `ending`."""
    return _fenced_write(tx, "run_end_execution", run, end_execution_params(lease, ending, CODEC))


def _ended(tx: Tx, run: Run) -> Run:
    """Report the run's terminal transition, which `tx` made."""
    tx.events.run_ended(run.namespace_id, run.workflow_name, run.status)
    return run


def fenced_update(tx: Tx, name: str, run: Run, lease: Lease, **params: object) -> Run:
    """Run a write whose WHERE clause repeats the fence; no row means the lease is lost."""
    return _fenced_write(tx, name, run, {**lease_params(lease, CODEC), **params})


def _fenced_write(tx: Tx, name: str, run: Run, params: Mapping[str, object]) -> Run:
    row = tx.row(name, **params)
    if row is None:
        raise LeaseLost(run.run_id, run.status)
    return run_from_row(row, CODEC)
