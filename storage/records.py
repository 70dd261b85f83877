"""The typed records that storage speaks: runs, step attempts and the params of each call.

Payloads (input, output, config, context, failure details) are JSON text, stored
verbatim: storage never looks inside them. `None` means "not set"; the JSON
value null is the text "null".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

Json = str
"""JSON text."""


class RunStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SLEEPING = "SLEEPING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED})


class StepKind(enum.StrEnum):
    FUNCTION = "FUNCTION"
    SLEEP = "SLEEP"


class StepStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Failure:
    type: str
    message: str
    stack_trace: str = ""
    details: Json | None = None
    non_retryable: bool = False


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A resolved policy: every field has its value (defaults are filled in by the caller)."""

    initial_interval: timedelta
    backoff_coefficient: float
    maximum_interval: timedelta
    maximum_attempts: int
    """Attempts in all, the first included; 0 means unlimited."""


@dataclass(frozen=True, slots=True)
class Run:
    run_id: str
    namespace_id: str
    workflow_name: str
    version: str
    status: RunStatus
    task_queue: str
    input: Json | None
    output: Json | None
    error: Failure | None
    context: Json | None
    idempotency_key: str | None
    deadline_at: datetime | None
    worker_id: str | None
    attempt: int
    retry_policy: RetryPolicy
    parent_run_id: str | None
    parent_step_attempt_id: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    wake_up_at: datetime | None
    available_at: datetime | None


@dataclass(frozen=True, slots=True)
class StepAttempt:
    step_attempt_id: str
    namespace_id: str
    workflow_run_id: str
    step_id: str
    kind: StepKind
    status: StepStatus
    attempt: int
    config: Json | None
    context: Json | None
    output: Json | None
    error: Failure | None
    child_workflow_run_id: str | None
    worker_id: str | None
    wake_up_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Items in ascending (created_at, id) order, and whether anything lies beyond each end."""

    items: list[T]
    has_next: bool
    has_prev: bool


@dataclass(frozen=True, slots=True)
class Cursor:
    """A keyset position: list the items after (forward) or before (backward) this key."""

    created_at: datetime
    id: str
    forward: bool


# --- client calls -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunCreateParams:
    namespace_id: str
    workflow_name: str
    version: str
    task_queue: str
    input: Json | None
    idempotency_key: str | None
    context: Json | None
    deadline_at: datetime | None
    start_at: datetime | None
    retry_policy: RetryPolicy


@dataclass(frozen=True, slots=True)
class RunCreateResult:
    run: Run
    existing: bool


@dataclass(frozen=True, slots=True)
class RunGetParams:
    namespace_id: str
    run_id: str


@dataclass(frozen=True, slots=True)
class RunFilter:
    statuses: tuple[RunStatus, ...] = ()
    workflow_name: str | None = None
    task_queue: str | None = None
    created_after: datetime | None = None
    """Inclusive."""
    created_before: datetime | None = None
    """Exclusive."""


@dataclass(frozen=True, slots=True)
class RunListParams:
    namespace_id: str
    filter: RunFilter
    limit: int
    cursor: Cursor | None = None


@dataclass(frozen=True, slots=True)
class RunCancelParams:
    namespace_id: str
    run_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class StepGetParams:
    namespace_id: str
    run_id: str
    step_attempt_id: str


@dataclass(frozen=True, slots=True)
class StepListParams:
    namespace_id: str
    run_id: str
    limit: int
    cursor: Cursor | None = None


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """How many runs of one task queue are in one non-terminal status."""

    namespace_id: str
    task_queue: str
    status: RunStatus
    runs: int


# --- worker calls -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunClaimParams:
    namespace_id: str
    task_queue: str
    worker_id: str | None
    workflow_names: tuple[str, ...]
    """Empty means any workflow."""
    max_runs: int
    lease_duration: timedelta


@dataclass(frozen=True, slots=True)
class ClaimedRun:
    run: Run
    lease_id: str
    lease_expires_at: datetime
    steps: list[StepAttempt]
    """The run's step attempts, oldest first."""


@dataclass(frozen=True, slots=True)
class RunClaimResult:
    claimed: list[ClaimedRun]
    next_due_in: timedelta | None
    """When nothing was claimed: how long until a run of the queue becomes due by the
    database clock (zero or negative when one is due already), None when none is scheduled."""


@dataclass(frozen=True, slots=True)
class Lease:
    """Identifies a worker call's claim; every worker call is fenced on it."""

    namespace_id: str
    run_id: str
    lease_id: str
    worker_id: str | None = None


@dataclass(frozen=True, slots=True)
class RunHeartbeatParams:
    lease: Lease
    lease_duration: timedelta


@dataclass(frozen=True, slots=True)
class RunHeartbeatResult:
    lease_expires_at: datetime | None
    cancel_requested: bool


@dataclass(frozen=True, slots=True)
class StepBeginParams:
    lease: Lease
    step_id: str
    kind: StepKind = StepKind.FUNCTION
    config: Json | None = None
    context: Json | None = None


@dataclass(frozen=True, slots=True)
class StepCompleteParams:
    """Completes `step_attempt_id`, or, when it is None, records `step_id` in one call."""

    lease: Lease
    output: Json | None
    step_attempt_id: str | None = None
    step_id: str | None = None
    kind: StepKind = StepKind.FUNCTION
    config: Json | None = None
    context: Json | None = None


@dataclass(frozen=True, slots=True)
class StepFailParams:
    """Fails `step_attempt_id`, or, when it is None, records `step_id` as failed in one call."""

    lease: Lease
    error: Failure
    step_attempt_id: str | None = None
    step_id: str | None = None
    kind: StepKind = StepKind.FUNCTION
    config: Json | None = None
    context: Json | None = None


@dataclass(frozen=True, slots=True)
class StepFailResult:
    step: StepAttempt
    run: Run


@dataclass(frozen=True, slots=True)
class RunSleepParams:
    """Exactly one of wake_up_at and duration is set."""

    lease: Lease
    step_id: str
    wake_up_at: datetime | None = None
    duration: timedelta | None = None


@dataclass(frozen=True, slots=True)
class RunSleepResult:
    step: StepAttempt
    run: Run


@dataclass(frozen=True, slots=True)
class RunCompleteParams:
    lease: Lease
    output: Json | None


@dataclass(frozen=True, slots=True)
class RunFailParams:
    lease: Lease
    error: Failure


@dataclass(frozen=True, slots=True)
class RunReleaseParams:
    lease: Lease
    reason: str = ""
    """Why the worker gives the run back; the message of its open attempts' RELEASED error."""
