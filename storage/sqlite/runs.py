"""Client calls on runs: create, get, cancel."""

from __future__ import annotations

from storage.errors import IdempotencyConflict, RunAlreadyTerminal, RunNotFound
from storage.ids import uuid7
from storage.records import (
    Run,
    RunCancelParams,
    RunCreateParams,
    RunCreateResult,
    RunGetParams,
    RunStatus,
)
from storage.rules import cancel_failure, failure_to_json
from storage.sqlite.codec import interval_micros, micros_or_none, run_from_row
from storage.sqlite.database import Tx
from storage.sqlite.endings import close_open_steps


def create(tx: Tx, params: RunCreateParams) -> RunCreateResult:
    row = tx.row("run_insert", **_insert_values(tx, params))
    if row is not None:
        return RunCreateResult(run_from_row(row), existing=False)
    # The idempotency key is taken: the insert did nothing.
    existing = run_from_row(
        tx.one(
            "run_by_idempotency_key",
            namespace_id=params.namespace_id,
            idempotency_key=params.idempotency_key,
        )
    )
    if existing.workflow_name != params.workflow_name:
        raise IdempotencyConflict(
            existing.idempotency_key or "", existing.run_id, existing.workflow_name
        )
    return RunCreateResult(existing, existing=True)


def _insert_values(tx: Tx, params: RunCreateParams) -> dict[str, object]:
    policy = params.retry_policy
    return {
        "id": uuid7(),
        "namespace_id": params.namespace_id,
        "workflow_name": params.workflow_name,
        "version": params.version,
        "task_queue": params.task_queue,
        "input": params.input,
        "context": params.context,
        "idempotency_key": params.idempotency_key,
        "deadline_at": micros_or_none(params.deadline_at),
        "retry_initial_interval": interval_micros(policy.initial_interval),
        "retry_backoff_coefficient": policy.backoff_coefficient,
        "retry_maximum_interval": interval_micros(policy.maximum_interval),
        "retry_maximum_attempts": policy.maximum_attempts,
        "start_at": micros_or_none(params.start_at),
    }


def get(tx: Tx, params: RunGetParams) -> Run:
    row = tx.row("run_get", namespace_id=params.namespace_id, run_id=params.run_id)
    if row is None:
        raise RunNotFound(params.namespace_id, params.run_id)
    return run_from_row(row)


def cancel(tx: Tx, params: RunCancelParams) -> Run:
    run = get(tx, RunGetParams(params.namespace_id, params.run_id))
    if run.status is RunStatus.CANCELED:
        return run
    if run.status.is_terminal:
        raise RunAlreadyTerminal(run.run_id, run.status)
    failure = failure_to_json(cancel_failure(params.reason))
    canceled = run_from_row(tx.one("run_cancel", run_id=run.run_id, error=failure))
    close_open_steps(tx, run.run_id, failure)
    tx.events.run_ended(canceled.namespace_id, canceled.workflow_name, canceled.status)
    return canceled
