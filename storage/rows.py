"""Between database rows and records, for every backend: rows to records, records to
statement parameters.

Both backends keep the same columns under the same names; they differ in how a value
is stored. A backend passes its `Codec`: PostgreSQL's driver returns and takes
datetime and timedelta itself, SQLite stores microseconds (storage/sqlite/codec.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from storage.ids import uuid7
from storage.records import (
    ClaimedRun,
    Cursor,
    Event,
    EventRuns,
    EventRunsParams,
    Failure,
    Json,
    Lease,
    QueueDepth,
    RetryPolicy,
    Run,
    RunCreateParams,
    RunStatus,
    Signal,
    SlotsInUse,
    StepAttempt,
    StepFailParams,
    StepKind,
    StepStatus,
)
from storage.rules import Ending, LeaseState, failure_from_json, failure_to_json


class Row(Protocol):
    """A result row, by column name: psycopg's dict or sqlite3.Row."""

    def __getitem__(self, key: str, /) -> Any: ...


class Codec:
    """How a backend stores what records hold as Python values. This base passes every
    value through, for a driver that converts them itself; a backend overrides the rest."""

    def moment(self, value: Any) -> datetime:
        """A time column as an aware datetime."""
        return value  # type: ignore[no-any-return]

    def moment_or_none(self, value: Any) -> datetime | None:
        return None if value is None else self.moment(value)

    def interval(self, value: Any) -> timedelta:
        """An interval column as a timedelta."""
        return value  # type: ignore[no-any-return]

    def moment_param(self, value: datetime) -> Any:
        """A datetime as a statement parameter."""
        return value

    def moment_param_or_none(self, value: datetime | None) -> Any:
        return None if value is None else self.moment_param(value)

    def interval_param(self, value: timedelta) -> Any:
        return value

    def list_param(self, values: Sequence[str | None]) -> Any:
        """A list of strings as one parameter."""
        return values

    def id_param(self, value: str) -> str:
        """An ID as a parameter the statement can compare (see PostgreSQL's uuid columns)."""
        return value


# --- rows to records --------------------------------------------------------------------


def run_from_row(row: Row, codec: Codec, replay_count: int = 0) -> Run:
    """A run from a statement that does not count its replays (see Run.replay_count)."""
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
        deadline_at=codec.moment_or_none(row["deadline_at"]),
        worker_id=row["worker_id"],
        attempt=row["attempt"],
        retry_policy=RetryPolicy(
            initial_interval=codec.interval(row["retry_initial_interval"]),
            backoff_coefficient=row["retry_backoff_coefficient"],
            maximum_interval=codec.interval(row["retry_maximum_interval"]),
            maximum_attempts=row["retry_maximum_attempts"],
        ),
        parent_run_id=row["parent_run_id"],
        parent_step_attempt_id=row["parent_step_attempt_id"],
        created_at=codec.moment(row["created_at"]),
        updated_at=codec.moment(row["updated_at"]),
        started_at=codec.moment_or_none(row["started_at"]),
        finished_at=codec.moment_or_none(row["finished_at"]),
        wake_up_at=codec.moment_or_none(row["wake_up_at"]),
        available_at=codec.moment_or_none(row["available_at"]),
        replay_of_run_id=row["replay_of_run_id"],
        replay_count=replay_count,
        crash_count=row["crash_count"],
        priority=row["priority"],
        concurrency_key=row["concurrency_key"],
    )


def run_read_from_row(row: Row, codec: Codec) -> Run:
    """A run from a client's read, which counts its replays (the `replay_count` fragment)."""
    return run_from_row(row, codec, row["replay_count"])


def step_from_row(row: Row, codec: Codec) -> StepAttempt:
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
        wake_up_at=codec.moment_or_none(row["wake_up_at"]),
        started_at=codec.moment_or_none(row["started_at"]),
        finished_at=codec.moment_or_none(row["finished_at"]),
        created_at=codec.moment(row["created_at"]),
        updated_at=codec.moment(row["updated_at"]),
        copied_from_step_attempt_id=row["copied_from_step_attempt_id"],
        wait_name=row["wait_name"],
        wait_match=row["wait_match"],
    )


def signal_from_row(row: Row, codec: Codec) -> Signal:
    return Signal(
        signal_id=row["id"],
        namespace_id=row["namespace_id"],
        run_id=row["run_id"],
        signal_name=row["signal_name"],
        payload=row["payload"],
        idempotency_key=row["idempotency_key"],
        created_at=codec.moment(row["created_at"]),
        consumed_at=codec.moment_or_none(row["consumed_at"]),
        consumed_by_step_attempt_id=row["consumed_by_step_attempt_id"],
    )


def event_from_row(row: Row, codec: Codec) -> Event:
    return Event(
        event_id=row["id"],
        namespace_id=row["namespace_id"],
        event_name=row["event_name"],
        data=row["data"],
        idempotency_key=row["idempotency_key"],
        received_at=codec.moment(row["received_at"]),
    )


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NIL_ID = "00000000-0000-0000-0000-000000000000"


def event_runs_values(params: EventRunsParams, event_id: str, codec: Codec) -> dict[str, Any]:
    """The event_runs statement's values: one more row than the page, to tell whether
    another page follows."""
    after = params.after
    return {
        "event_id": event_id,
        "after_at": codec.moment_param(EPOCH if after is None else after.created_at),
        "after_id": codec.id_param(NIL_ID if after is None else after.id),
        "limit": params.limit + 1,
    }


def event_runs_from_rows(rows: Sequence[Row], limit: int, codec: Codec) -> EventRuns:
    """From event_runs rows (a run and its `relation` to the event), up to `limit + 1`: the
    page's runs, each once, and its last key when more follow."""
    found: dict[str, Run] = {}
    started: list[str] = []
    resumed: list[str] = []
    for row in rows[:limit]:
        run = run_from_row(row, codec)
        found.setdefault(run.run_id, run)
        (started if row["relation"] == "STARTED" else resumed).append(run.run_id)
    last = rows[limit - 1] if len(rows) > limit else None
    after = None if last is None else Cursor(codec.moment(last["linked_at"]), str(last["id"]), True)
    return EventRuns(list(found.values()), started, resumed, after)


def lease_state_from_row(row: Row, codec: Codec) -> LeaseState:
    """What fencing needs of a run's row (status, lease_id, lease_expires_at,
    deadline_at and error are enough)."""
    error = failure_from_json(row["error"])
    return LeaseState(
        status=RunStatus(row["status"]),
        lease_id=row["lease_id"],
        lease_expires_at=codec.moment_or_none(row["lease_expires_at"]),
        deadline_at=codec.moment_or_none(row["deadline_at"]),
        error_type=None if error is None else error.type,
    )


def claimed_runs(rows: Iterable[Row], steps: Iterable[Row], codec: Codec) -> list[ClaimedRun]:
    """The runs a claim took, each with its step attempts (`steps` in run order)."""
    by_run: dict[str, list[StepAttempt]] = {}
    for step in steps:
        by_run.setdefault(step["workflow_run_id"], []).append(step_from_row(step, codec))
    return [
        ClaimedRun(
            run=run_from_row(row, codec),
            lease_id=row["lease_id"],
            lease_expires_at=codec.moment(row["lease_expires_at"]),
            steps=by_run.get(row["id"], []),
        )
        for row in rows
    ]


def next_due_in(row: Row, codec: Codec) -> timedelta | None:
    """From a run_next_due row: how long until a run becomes due, None when none will."""
    due_in = row["due_in"]
    return None if due_in is None else codec.interval(due_in)


def queue_depth_from_row(row: Row) -> QueueDepth:
    return QueueDepth(row["namespace_id"], row["task_queue"], RunStatus(row["status"]), row["runs"])


def slots_in_use_from_row(row: Row) -> SlotsInUse:
    return SlotsInUse(
        row["namespace_id"], row["workflow_name"], int(row["in_use"]), int(row["max_concurrency"])
    )


# --- records to parameters --------------------------------------------------------------


def lease_params(lease: Lease, codec: Codec) -> dict[str, Any]:
    """The parameters of the lease fence (`lease_fence` in queries.sql)."""
    return {
        "namespace_id": lease.namespace_id,
        "run_id": codec.id_param(lease.run_id),
        "lease_id": codec.id_param(lease.lease_id),
        "worker_id": lease.worker_id,
    }


def run_insert_params(params: RunCreateParams, codec: Codec) -> dict[str, Any]:
    """The parameters of run_insert (and run_by_idempotency_key) for a new run."""
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
        "deadline_at": codec.moment_param_or_none(params.deadline_at),
        "start_at": codec.moment_param_or_none(params.start_at),
        "retry_initial_interval": codec.interval_param(policy.initial_interval),
        "retry_backoff_coefficient": policy.backoff_coefficient,
        "retry_maximum_interval": codec.interval_param(policy.maximum_interval),
        "retry_maximum_attempts": policy.maximum_attempts,
        "priority": params.priority,
        "concurrency_key": params.concurrency_key,
    }


@dataclass(frozen=True, slots=True)
class NewAttempt:
    """A step attempt to record: started now, and finished now unless it is RUNNING."""

    step_id: str
    kind: StepKind
    status: StepStatus
    config: Json | None = None
    context: Json | None = None
    output: Json | None = None
    error: Failure | None = None
    wake_up_at: datetime | None = None
    child_workflow_run_id: str | None = None
    wait_name: str | None = None
    wait_match: Json | None = None

    @classmethod
    def failed(cls, params: StepFailParams, step_id: str) -> NewAttempt:
        """A step that fails in one call, with no attempt begun."""
        return cls(
            step_id,
            params.kind,
            StepStatus.FAILED,
            config=params.config,
            context=params.context,
            error=params.error,
        )


def step_insert_params(
    new: NewAttempt, run: Run, lease: Lease, now: datetime, codec: Codec
) -> dict[str, Any]:
    """The parameters of step_insert: an attempt of `run`, recorded by `lease`'s worker
    (else the run's), `now` by the database clock."""
    return {
        "id": uuid7(),
        "namespace_id": run.namespace_id,
        "run_id": codec.id_param(run.run_id),
        "step_id": new.step_id,
        "kind": new.kind.value,
        "status": new.status.value,
        "config": new.config,
        "context": new.context,
        "output": new.output,
        "error": None if new.error is None else failure_to_json(new.error),
        "worker_id": lease.worker_id or run.worker_id,
        "wake_up_at": codec.moment_param_or_none(new.wake_up_at),
        "finished_at": None if new.status is StepStatus.RUNNING else codec.moment_param(now),
        "child_workflow_run_id": (
            None if new.child_workflow_run_id is None else codec.id_param(new.child_workflow_run_id)
        ),
        "wait_name": new.wait_name,
        "wait_match": new.wait_match,
    }


def end_execution_params(lease: Lease, ending: Ending, codec: Codec) -> dict[str, Any]:
    """The parameters of run_end_execution: the lease's run leaves RUNNING by `ending`."""
    return {
        **lease_params(lease, codec),
        "status": ending.status.value,
        "attempt": ending.attempt,
        "error": None if ending.error is None else failure_to_json(ending.error),
        "finished_at": codec.moment_param_or_none(ending.finished_at),
        "wake_up_at": codec.moment_param_or_none(ending.wake_up_at),
        "available_at": codec.moment_param_or_none(ending.available_at),
    }
