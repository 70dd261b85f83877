"""The values the SDK hands out: runs, step attempts, failures, retry policies, pages.
Each run and step keeps the message it came from, for `to_dict()` (proto3 JSON)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from google.protobuf import json_format

from stepline._convert import (
    EXACT_INT_LIMIT,
    optional_time,
    struct_to_python,
    to_duration,
    to_python,
)
from stepline.v1 import common_pb2, step_attempt_pb2, waits_pb2, workflow_run_pb2

T = TypeVar("T")
_RUN_PREFIX = "WORKFLOW_RUN_STATUS_"


class RunStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SLEEPING = "SLEEPING"
    WAITING = "WAITING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def proto(self) -> int:
        return workflow_run_pb2.WorkflowRunStatus.Value(_RUN_PREFIX + self.value)

    @classmethod
    def parse(cls, value: RunStatus | str) -> RunStatus:
        """'completed', 'COMPLETED' or 'WORKFLOW_RUN_STATUS_COMPLETED'."""
        if isinstance(value, RunStatus):
            return value
        text = value.strip().upper().removeprefix(_RUN_PREFIX)
        try:
            return cls(text)
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown run status {value!r}: use one of {names}") from None

    @classmethod
    def from_proto(cls, value: int) -> RunStatus:
        return cls(workflow_run_pb2.WorkflowRunStatus.Name(value).removeprefix(_RUN_PREFIX))


_TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED})


@dataclass(frozen=True, slots=True)
class Failure:
    type: str
    message: str
    stack_trace: str = ""
    details: Any = None
    non_retryable: bool = False

    @classmethod
    def from_proto(cls, msg: common_pb2.Failure) -> Failure:
        return cls(
            type=msg.type,
            message=msg.message,
            stack_trace=msg.stack_trace,
            details=to_python(msg.details) if msg.HasField("details") else None,
            non_retryable=msg.non_retryable,
        )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A run's retry policy (unset fields take the server's defaults: 1 s, 2.0, 100 x initial,
    5 attempts), or a step's in-process retries (defaults: 1 s, 2.0, 100 s, 3 attempts).
    `maximum_attempts` counts every attempt, the first included; 0 means unlimited."""

    initial_interval: timedelta | None = None
    backoff_coefficient: float | None = None
    maximum_interval: timedelta | None = None
    maximum_attempts: int | None = None

    def to_proto(self) -> common_pb2.RetryPolicy:
        out = common_pb2.RetryPolicy()
        if self.initial_interval is not None:
            out.initial_interval.CopyFrom(to_duration(self.initial_interval))
        if self.backoff_coefficient is not None:
            out.backoff_coefficient = self.backoff_coefficient
        if self.maximum_interval is not None:
            out.maximum_interval.CopyFrom(to_duration(self.maximum_interval))
        if self.maximum_attempts is not None:
            out.maximum_attempts = self.maximum_attempts
        return out

    @classmethod
    def from_proto(cls, msg: common_pb2.RetryPolicy) -> RetryPolicy:
        return cls(
            initial_interval=msg.initial_interval.ToTimedelta(),
            backoff_coefficient=msg.backoff_coefficient,
            maximum_interval=msg.maximum_interval.ToTimedelta(),
            maximum_attempts=msg.maximum_attempts if msg.HasField("maximum_attempts") else None,
        )


def _failure(msg: Any) -> Failure | None:
    return Failure.from_proto(msg.error) if msg.HasField("error") else None


def _message_dict(msg: Any) -> dict[str, Any]:
    out: dict[str, Any] = _whole_numbers(json_format.MessageToDict(msg))
    return out


def _whole_numbers(value: Any) -> Any:
    """42.0 -> 42, as protojson and the REST gateway print it: payloads travel as
    protobuf doubles, and people wrote 42."""
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_INT_LIMIT:
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class Run:
    run_id: str
    namespace_id: str
    workflow_name: str
    version: str
    status: RunStatus
    task_queue: str
    input: Any
    output: Any
    error: Failure | None
    context: dict[str, Any]
    idempotency_key: str
    attempt: int
    created_at: datetime | None
    updated_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    deadline_at: datetime | None
    wake_up_at: datetime | None
    available_at: datetime | None
    worker_id: str
    retry_policy: RetryPolicy | None
    replay_of_run_id: str = ""
    """The run this one replays; empty for a run that was started."""
    replay_count: int = 0
    """How many runs replay this one."""
    parent_run_id: str = ""
    """The run that started this one as a child (ctx.step.invoke); empty for a top-level run."""
    parent_step_attempt_id: str = ""
    """The parent's CHILD step attempt that started this run."""
    crash_count: int = 0
    """Lease expiries in a row with no step completed (a poison run fails at the server's
    max_crashes with error type WORKER_CRASHED)."""
    priority: int = 3
    """1 (highest) to 5: claims take due runs in priority order, then oldest first."""
    concurrency_key: str = ""
    """The concurrency key the run was started with; empty when none was given."""
    existing: bool = False
    """True when start() or replay() matched an earlier run by its idempotency key."""
    warnings: tuple[str, ...] = field(default=(), compare=False)
    """What start() was told, e.g. that no worker ever registered the workflow."""
    proto: workflow_run_pb2.WorkflowRun = field(repr=False, compare=False, kw_only=True)

    @classmethod
    def from_proto(
        cls,
        msg: workflow_run_pb2.WorkflowRun,
        existing: bool = False,
        warnings: tuple[str, ...] = (),
    ) -> Run:
        return cls(
            run_id=msg.run_id,
            namespace_id=msg.namespace_id,
            workflow_name=msg.workflow_name,
            version=msg.version,
            status=RunStatus.from_proto(msg.status),
            task_queue=msg.task_queue,
            input=to_python(msg.input) if msg.HasField("input") else None,
            output=to_python(msg.output) if msg.HasField("output") else None,
            error=_failure(msg),
            context=struct_to_python(msg.context),
            idempotency_key=msg.idempotency_key,
            attempt=msg.attempt,
            created_at=optional_time(msg, "created_at"),
            updated_at=optional_time(msg, "updated_at"),
            started_at=optional_time(msg, "started_at"),
            finished_at=optional_time(msg, "finished_at"),
            deadline_at=optional_time(msg, "deadline_at"),
            wake_up_at=optional_time(msg, "wake_up_at"),
            available_at=optional_time(msg, "available_at"),
            worker_id=msg.worker_id,
            retry_policy=(
                RetryPolicy.from_proto(msg.retry_policy) if msg.HasField("retry_policy") else None
            ),
            replay_of_run_id=msg.replay_of_run_id,
            replay_count=msg.replay_count,
            parent_run_id=msg.parent_run_id,
            parent_step_attempt_id=msg.parent_step_attempt_id,
            crash_count=msg.crash_count,
            priority=msg.priority,
            concurrency_key=msg.concurrency_key,
            existing=existing,
            warnings=warnings,
            proto=msg,
        )

    def to_dict(self) -> dict[str, Any]:
        """The run as proto3 JSON (camelCase field names), as the REST API shows it."""
        return _message_dict(self.proto)


_STEP_KIND_PREFIX = "STEP_KIND_"
_STEP_STATUS_PREFIX = "STEP_ATTEMPT_STATUS_"


@dataclass(frozen=True, slots=True)
class Step:
    step_attempt_id: str
    step_id: str
    kind: str
    """FUNCTION, SLEEP, CHILD, SIGNAL or EVENT."""
    status: str
    """RUNNING, COMPLETED or FAILED."""
    attempt: int
    output: Any
    error: Failure | None
    config: Any
    worker_id: str
    started_at: datetime | None
    finished_at: datetime | None
    wake_up_at: datetime | None
    copied_from_step_attempt_id: str = ""
    """For a step a replay copied: the replayed run's attempt; empty when it ran here."""
    child_workflow_run_id: str = ""
    """For a CHILD step: the child run it started."""
    wait_name: str = ""
    """For a SIGNAL or EVENT step: the signal or event name it waits for."""
    proto: step_attempt_pb2.StepAttempt = field(repr=False, compare=False, kw_only=True)

    @classmethod
    def from_proto(cls, msg: step_attempt_pb2.StepAttempt) -> Step:
        return cls(
            step_attempt_id=msg.step_attempt_id,
            step_id=msg.step_id,
            kind=step_attempt_pb2.StepKind.Name(msg.kind).removeprefix(_STEP_KIND_PREFIX),
            status=step_attempt_pb2.StepAttemptStatus.Name(msg.status).removeprefix(
                _STEP_STATUS_PREFIX
            ),
            attempt=msg.attempt,
            output=to_python(msg.output) if msg.HasField("output") else None,
            error=_failure(msg),
            config=to_python(msg.config) if msg.HasField("config") else None,
            worker_id=msg.worker_id,
            started_at=optional_time(msg, "started_at"),
            finished_at=optional_time(msg, "finished_at"),
            wake_up_at=optional_time(msg, "wake_up_at"),
            copied_from_step_attempt_id=msg.copied_from_step_attempt_id,
            child_workflow_run_id=msg.child_workflow_run_id,
            wait_name=msg.wait_name,
            proto=msg,
        )

    def to_dict(self) -> dict[str, Any]:
        """The step attempt as proto3 JSON (camelCase field names)."""
        return _message_dict(self.proto)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_page_token: str
    prev_page_token: str
    has_more: bool


@dataclass(slots=True)
class BatchResult:
    """What a batch (`batch_cancel`, `batch_replay`) did, over every page; also handed to
    the progress callback after each page, with the totals so far."""

    affected_count: int = 0
    """Runs canceled, or replays made (with dry_run: runs a real batch would act on)."""
    skipped_count: int = 0
    """Runs that matched but were left alone (already ended for a cancel; not ended, or
    never at from_step, for a replay)."""
    run_ids: list[str] = field(default_factory=list)
    """The runs canceled, or the new runs (with dry_run: the runs a real batch would act on)."""
    pages: int = 0
    """Calls made so far."""
    batch_id: str = ""
    """The batch replay's id (empty for a cancel)."""
    next_page_token: str = ""
    """Where the batch goes on after the pages done so far: give it back (with the same
    filters, and the same batch_id for a replay) to resume a batch that was cut short."""
    done: bool = False
    """True once the last page is done."""

    @property
    def matched_count(self) -> int:
        """Runs the batch looked at so far."""
        return self.affected_count + self.skipped_count


@dataclass(frozen=True, slots=True)
class Event:
    """An event (SendEvent): what `ctx.step.wait_for_event` returns, and the client's calls."""

    event_id: str
    event_name: str
    data: dict[str, Any]
    received_at: datetime
    idempotency_key: str = ""

    @classmethod
    def from_proto(cls, msg: waits_pb2.Event) -> Event:
        received = optional_time(msg, "received_at")
        assert received is not None, "the server always sets received_at"
        return cls(
            event_id=msg.event_id,
            event_name=msg.event_name,
            data=_whole_numbers(struct_to_python(msg.data)),
            received_at=received,
            idempotency_key=msg.idempotency_key,
        )

    @classmethod
    def from_output(cls, output: dict[str, Any]) -> Event:
        """From an EVENT step's output (the server records the event as JSON)."""
        return cls(
            event_id=output["event_id"],
            event_name=output["event_name"],
            data=output.get("data") or {},
            received_at=datetime.fromisoformat(output["received_at"]),
        )


@dataclass(frozen=True, slots=True)
class Signal:
    """A signal sent to a run (SignalWorkflowRun)."""

    signal_id: str
    run_id: str
    signal_name: str
    payload: Any
    created_at: datetime | None
    consumed_at: datetime | None
    """When a wait took it; None while it waits in the run's inbox."""

    @classmethod
    def from_proto(cls, msg: waits_pb2.Signal) -> Signal:
        return cls(
            signal_id=msg.signal_id,
            run_id=msg.run_id,
            signal_name=msg.signal_name,
            payload=to_python(msg.payload) if msg.HasField("payload") else None,
            created_at=optional_time(msg, "created_at"),
            consumed_at=optional_time(msg, "consumed_at"),
        )


@dataclass(frozen=True, slots=True)
class EventSent:
    """What `Client.send_event` answers."""

    event: Event
    existing: bool
    """True when the idempotency key matched an earlier event (which resumed nothing now)."""
    resumed_run_ids: Sequence[str]
    """Runs whose wait the event resolved."""
    started_run_ids: Sequence[str]
    """Runs the event started (triggers)."""


@dataclass(frozen=True, slots=True)
class EventRuns:
    """The runs an event started or resumed (`Client.event_runs`)."""

    runs: Sequence[Run]
    started_run_ids: Sequence[str]
    resumed_run_ids: Sequence[str]
