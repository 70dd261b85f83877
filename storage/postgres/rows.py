"""PostgreSQL rows (dict_row, json and uuid loaded as text) to storage records."""

from __future__ import annotations

from storage.postgres.database import Row
from storage.records import RetryPolicy, Run, RunStatus, StepAttempt, StepKind, StepStatus
from storage.rules import LeaseState, failure_from_json


def run_from_row(row: Row) -> Run:
    return Run(
        run_id=row["id"],
        namespace_id=row["namespace_id"],
        workflow_name=row["workflow_name"],
        version=row["version"],
        status=RunStatus(row["status"]),
        task_queue=row["task_queue"],
        input=row["input"],
        output=row["output"],
        error=failure_from_json(row["error"]),
        context=row["context"],
        idempotency_key=row["idempotency_key"],
        deadline_at=row["deadline_at"],
        worker_id=row["worker_id"],
        attempt=row["attempt"],
        retry_policy=RetryPolicy(
            initial_interval=row["retry_initial_interval"],
            backoff_coefficient=row["retry_backoff_coefficient"],
            maximum_interval=row["retry_maximum_interval"],
            maximum_attempts=row["retry_maximum_attempts"],
        ),
        parent_run_id=row["parent_run_id"],
        parent_step_attempt_id=row["parent_step_attempt_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        wake_up_at=row["wake_up_at"],
        available_at=row["available_at"],
    )


def step_from_row(row: Row) -> StepAttempt:
    return StepAttempt(
        step_attempt_id=row["id"],
        namespace_id=row["namespace_id"],
        workflow_run_id=row["workflow_run_id"],
        step_id=row["step_id"],
        kind=StepKind(row["kind"]),
        status=StepStatus(row["status"]),
        attempt=row["attempt"],
        config=row["config"],
        context=row["context"],
        output=row["output"],
        error=failure_from_json(row["error"]),
        child_workflow_run_id=row["child_workflow_run_id"],
        worker_id=row["worker_id"],
        wake_up_at=row["wake_up_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def lease_state_from_row(row: Row | None) -> LeaseState | None:
    """From a run_lease_state or run_lock row."""
    if row is None:
        return None
    error_type = row.get("error_type")
    if error_type is None and "error" in row:
        error = failure_from_json(row["error"])
        error_type = error.type if error else None
    return LeaseState(
        status=RunStatus(row["status"]),
        lease_id=row["lease_id"],
        lease_expires_at=row["lease_expires_at"],
        deadline_at=row["deadline_at"],
        error_type=error_type,
    )
