"""Client calls on runs: create, get, cancel."""

from __future__ import annotations

from storage import rules
from storage.errors import IdempotencyConflict, RunAlreadyTerminal, RunNotFound
from storage.records import (
    Run,
    RunCancelParams,
    RunCreateParams,
    RunCreateResult,
    RunGetParams,
    RunStatus,
)
from storage.rows import run_from_row, run_insert_params, run_read_from_row
from storage.sqlite.codec import CODEC
from storage.sqlite.database import Tx
from storage.sqlite.endings import close_open_steps


def create(tx: Tx, params: RunCreateParams) -> RunCreateResult:
    values = run_insert_params(params, CODEC)
    row = tx.row("run_insert", **values)
    if row is not None:
        return RunCreateResult(run_from_row(row, CODEC), existing=False)
    # The idempotency key is taken: the insert did nothing.
    existing = run_read_from_row(tx.one("run_by_idempotency_key", **values), CODEC)
    if existing.workflow_name != params.workflow_name:
        raise IdempotencyConflict(
            existing.idempotency_key or "", existing.run_id, existing.workflow_name
        )
    return RunCreateResult(existing, existing=True)


def get(tx: Tx, params: RunGetParams) -> Run:
    """The run as a client reads it, with its replay_count."""
    row = tx.row("run_read", namespace_id=params.namespace_id, run_id=params.run_id)
    if row is None:
        raise RunNotFound(params.namespace_id, params.run_id)
    return run_read_from_row(row, CODEC)


def cancel(tx: Tx, params: RunCancelParams) -> Run:
    run = get(tx, RunGetParams(params.namespace_id, params.run_id))
    if run.status is RunStatus.CANCELED:
        return run
    if run.status.is_terminal:
        raise RunAlreadyTerminal(run.run_id, run.status)
    failure = rules.failure_to_json(rules.cancel_failure(params.reason))
    canceled = run_from_row(tx.one("run_cancel", run_id=run.run_id, error=failure), CODEC)
    close_open_steps(tx, run.run_id, failure)
    tx.events.run_ended(canceled.namespace_id, canceled.workflow_name, canceled.status)
    return canceled
