"""Between SQLite values and records: times as INTEGER microseconds since the Unix
epoch (UTC), intervals as INTEGER microseconds, failures as JSON text."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from storage.records import (
    RetryPolicy,
    Run,
    RunStatus,
    StepAttempt,
    StepKind,
    StepStatus,
)
from storage.rules import failure_from_json

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    # A naive datetime is taken as UTC, never as the host's local time.
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - _EPOCH) // _MICROSECOND


def micros_or_none(at: datetime | None) -> int | None:
    return None if at is None else micros(at)


def moment(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def moment_or_none(value: int | None) -> datetime | None:
    return None if value is None else moment(value)


def interval_micros(interval: timedelta) -> int:
    return interval // _MICROSECOND


def interval(value: int) -> timedelta:
    return timedelta(microseconds=value)


def run_from_row(row: sqlite3.Row) -> Run:
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
        deadline_at=moment_or_none(row["deadline_at"]),
        worker_id=row["worker_id"],
        attempt=row["attempt"],
        retry_policy=_retry_policy_from_row(row),
        parent_run_id=row["parent_run_id"],
        parent_step_attempt_id=row["parent_step_attempt_id"],
        created_at=moment(row["created_at"]),
        updated_at=moment(row["updated_at"]),
        started_at=moment_or_none(row["started_at"]),
        finished_at=moment_or_none(row["finished_at"]),
        wake_up_at=moment_or_none(row["wake_up_at"]),
        available_at=moment_or_none(row["available_at"]),
    )


def _retry_policy_from_row(row: sqlite3.Row) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=interval(row["retry_initial_interval"]),
        backoff_coefficient=row["retry_backoff_coefficient"],
        maximum_interval=interval(row["retry_maximum_interval"]),
        maximum_attempts=row["retry_maximum_attempts"],
    )


def step_from_row(row: sqlite3.Row) -> StepAttempt:
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
        wake_up_at=moment_or_none(row["wake_up_at"]),
        started_at=moment_or_none(row["started_at"]),
        finished_at=moment_or_none(row["finished_at"]),
        created_at=moment(row["created_at"]),
        updated_at=moment(row["updated_at"]),
    )
