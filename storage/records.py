"""The typed records that storage speaks: runs, step attempts and the params of each call.

Payloads (input, output, config, context, failure details) are JSON text, stored
verbatim: storage never looks inside them. `None` means "not set"; the JSON
value null is the text "null".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

Json = str
"""JSON text."""


class RunStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SLEEPING = "SLEEPING"
    WAITING = "WAITING"
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
    CHILD = "CHILD"
    SIGNAL = "SIGNAL"
    EVENT = "EVENT"

    @property
    def is_wait(self) -> bool:
        return self in WAIT_KINDS


WAIT_KINDS = frozenset({StepKind.CHILD, StepKind.SIGNAL, StepKind.EVENT})
ACTIVE_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.SLEEPING, RunStatus.WAITING)


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
    replay_of_run_id: str | None
    """The run this one replays; None for a run that was started."""
    replay_count: int = 0
    """How many runs replay this one. Counted by the reads a client makes (get, list, an
    idempotent start or replay); other calls return 0, which is exact for them: only a
    terminal run can have replays, and a run a call has just ended has none yet (a
    repeated ending answers the run as that call recorded it, uncounted too)."""
    crash_count: int = 0
    """Lease expiries in a row with no step completed in between (poison runs), as of the
    last time an expired lease of the run was taken back; a step completed resets it."""
    priority: int = 3
    """1 (highest) to 5: claims take due runs in priority order, then oldest first."""
    concurrency_key: str | None = None
    """Stored for the concurrency limits of a later change; nothing reads it yet."""


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
    copied_from_step_attempt_id: str | None
    """For an attempt copied into a replay: the replayed run's attempt it was copied from."""
    wait_name: str | None = None
    """A SIGNAL or EVENT step's signal or event name."""
    wait_match: Json | None = None
    """An EVENT step's match: fields the event's data must contain."""


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
    priority: int = 3
    concurrency_key: str | None = None


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
    replay_of_run_id: str | None = None
    parent_run_id: str | None = None


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
class RunReplayParams:
    """Replay `run_id`: a new run with the original's workflow, version, task queue,
    context and retry policy, whose history holds copies of the steps the original
    completed before `from_step_id` (None: start over)."""

    namespace_id: str
    run_id: str
    from_step_id: str | None = None
    input: Json | None = None
    """The replay's input; None keeps the original's (the JSON value null is "null")."""
    idempotency_key: str | None = None
    trace: Json | None = None
    """The caller's W3C trace context ({"traceparent", ["tracestate"]}), or None: the
    replay's context continues it, with a link to the original's trace."""


@dataclass(frozen=True, slots=True)
class RunReplayResult:
    run: Run
    existing: bool
    """True when the idempotency key matched an earlier replay of the same run."""


@dataclass(frozen=True, slots=True)
class RunBatchParams:
    """One chunk of a batch over the runs matching `filter`, oldest first: up to `limit`
    runs after `after`, created before `as_of` (None on the first chunk: the chunk's own
    clock, reported back in the result for the chunks that follow)."""

    namespace_id: str
    filter: RunFilter
    limit: int
    after: Cursor | None = None
    as_of: datetime | None = None
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class RunBatchCancelParams:
    batch: RunBatchParams
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RunBatchReplayParams:
    batch: RunBatchParams
    batch_id: str
    """Each run is replayed at most once per batch id, however often a chunk is repeated."""
    from_step_id: str | None = None
    trace: Json | None = None


@dataclass(frozen=True, slots=True)
class RunBatchResult:
    run_ids: list[str]
    """Cancel: the runs canceled. Replay: the new runs, in their originals' order (a
    repeated chunk answers the replays the batch made before). Dry run: the runs a real
    call would act on."""
    affected: int
    skipped: int
    """Runs that matched but were left alone: terminal for a cancel; not terminal, or
    never reached from_step_id, for a replay."""
    last: Cursor | None
    """The last run the chunk looked at, or None when it matched none."""
    has_more: bool
    """Whether matching runs lie after `last` (created before `as_of`)."""
    as_of: datetime | None
    """The batch's upper bound on created_at: runs created after the first chunk began
    are not part of the batch (None when the chunk matched nothing)."""


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
class SlotsInUse:
    """How many concurrency slots the RUNNING runs of one workflow hold, next to its
    limit (0: none; runs keep slots taken under a limit since removed until they leave
    RUNNING)."""

    namespace_id: str
    workflow_name: str
    in_use: int
    max_concurrency: int


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
    max_crashes: int = 3
    """A run whose lease expired this many times in a row with no step completed in
    between is FAILED with rules.WORKER_CRASHED_FAILURE instead of claimed again; 0 means
    no limit."""


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


# --- schedules --------------------------------------------------------------------------


class Overlap(enum.StrEnum):
    """What a fire does while the schedule's last run is still active."""

    SKIP = "SKIP"
    BUFFER_ONE = "BUFFER_ONE"
    ALLOW_ALL = "ALLOW_ALL"


@dataclass(frozen=True, slots=True)
class Schedule:
    namespace_id: str
    schedule_id: str
    cron: str | None
    """A cron expression; exactly one of cron and interval is set."""
    interval: timedelta | None
    timezone: str
    workflow_name: str
    version: str
    task_queue: str
    input: Json | None
    priority: int
    overlap: Overlap
    catchup_window: timedelta
    paused: bool
    next_fire_at: datetime
    last_fire_at: datetime | None
    last_run_id: str | None
    buffered_fire_at: datetime | None
    """A fire kept by BUFFER_ONE, started once the last run ends."""
    missed_fires: int
    skipped_fires: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ScheduleCreateParams:
    namespace_id: str
    schedule_id: str
    cron: str | None
    interval: timedelta | None
    timezone: str
    workflow_name: str
    version: str
    task_queue: str
    input: Json | None
    priority: int
    overlap: Overlap
    catchup_window: timedelta
    paused: bool
    next_fire_at: datetime


@dataclass(frozen=True, slots=True)
class ScheduleRef:
    namespace_id: str
    schedule_id: str


@dataclass(frozen=True, slots=True)
class ScheduleListParams:
    namespace_id: str
    limit: int
    after: str | None
    """List the schedules whose schedule_id sorts after this one."""


@dataclass(frozen=True, slots=True)
class ScheduleDueParams:
    limit: int


@dataclass(frozen=True, slots=True)
class ScheduleResumeParams:
    ref: ScheduleRef
    next_fire_at: datetime
    """The schedule's first fire after now, computed by the caller."""


@dataclass(frozen=True, slots=True)
class SchedulesDue:
    due: list[Schedule]
    """Unpaused schedules whose next fire has come, oldest fire first."""
    buffered: list[Schedule]
    """Unpaused schedules whose buffered fire can start: their last run ended."""
    now: datetime
    """The database clock when they were read."""
    next_due_in: timedelta | None
    """How long until the next fire of an unpaused schedule, when none is due."""


class FireKind(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    """The schedule's next fire: it compares and advances next_fire_at."""
    BUFFERED = "BUFFERED"
    """The fire BUFFER_ONE kept: it compares and clears buffered_fire_at."""
    TRIGGER = "TRIGGER"
    """TriggerSchedule: a run now, whatever the schedule's state."""


class FireOutcome(enum.StrEnum):
    STARTED = "started"
    SKIPPED = "skipped"
    """The overlap policy started nothing (SKIP, or BUFFER_ONE with one buffered)."""
    BUFFERED = "buffered"
    MISSED = "missed"
    """Older than the catch-up window: skipped and counted."""
    LOST = "lost"
    """The schedule changed since it was read (another server fired it, or it was paused,
    resumed or deleted): nothing was done."""


@dataclass(frozen=True, slots=True)
class ScheduleFireParams:
    ref: ScheduleRef
    kind: FireKind
    fire_at: datetime
    """The fire: the expected next_fire_at (SCHEDULED) or buffered_fire_at (BUFFERED)."""
    next_fire_at: datetime | None
    """SCHEDULED: the fire after this one, which next_fire_at becomes."""
    missed: int
    """SCHEDULED: fires before this one skipped as older than the catch-up window."""
    run: RunCreateParams | None
    """The run to start; None when the fire itself is missed. Its idempotency key names
    the schedule and fire time, so a fire starts one run however often it is tried."""


@dataclass(frozen=True, slots=True)
class ScheduleFireResult:
    outcome: FireOutcome
    schedule: Schedule | None
    run: Run | None


# --- waits: child runs, signals, events --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """The child run a CHILD wait starts."""

    workflow_name: str
    version: str
    task_queue: str
    """Empty: the parent's task queue."""
    input: Json | None
    context: Json | None
    retry_policy: RetryPolicy


@dataclass(frozen=True, slots=True)
class WaitSpec:
    """One wait of a RegisterWaits: `child` for CHILD, `name` (and `match` for EVENT)
    otherwise; at most one of wake_up_at and duration (the timeout)."""

    step_id: str
    kind: StepKind
    child: ChildSpec | None = None
    name: str | None = None
    match: Json | None = None
    wake_up_at: datetime | None = None
    duration: timedelta | None = None


@dataclass(frozen=True, slots=True)
class RunWaitParams:
    lease: Lease
    waits: tuple[WaitSpec, ...]


@dataclass(frozen=True, slots=True)
class RunWaitResult:
    steps: list[StepAttempt]
    """One per wait, in the request's order."""
    run: Run


@dataclass(frozen=True, slots=True)
class Signal:
    signal_id: str
    namespace_id: str
    run_id: str
    signal_name: str
    payload: Json | None
    idempotency_key: str | None
    created_at: datetime
    consumed_at: datetime | None
    consumed_by_step_attempt_id: str | None


@dataclass(frozen=True, slots=True)
class SignalSendParams:
    namespace_id: str
    run_id: str
    signal_name: str
    payload: Json | None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class SignalSendResult:
    signal: Signal
    existing: bool


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    namespace_id: str
    event_name: str
    data: Json
    idempotency_key: str | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class EventSendParams:
    namespace_id: str
    event_name: str
    data: Json
    """A JSON object."""
    idempotency_key: str | None = None
    starts: tuple[RunCreateParams, ...] = ()
    """The runs the event's triggers start (chosen by the service), started in the event's
    transaction when the event is new; a repeat (`existing`) starts nothing."""


@dataclass(frozen=True, slots=True)
class EventSendResult:
    event: Event
    existing: bool
    resumed_run_ids: list[str]
    started_run_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EventGetParams:
    namespace_id: str
    event_id: str


@dataclass(frozen=True, slots=True)
class EventListParams:
    namespace_id: str
    limit: int
    event_name: str | None = None
    received_after: datetime | None = None
    """Inclusive."""
    received_before: datetime | None = None
    """Exclusive."""
    cursor: Cursor | None = None


@dataclass(frozen=True, slots=True)
class EventRunsParams:
    """One page of an event's runs: `limit` of them after `after` (None: from the first),
    in the order the event reached them."""

    namespace_id: str
    event_id: str
    limit: int
    after: Cursor | None = None


@dataclass(frozen=True, slots=True)
class EventRuns:
    runs: list[Run]
    started_run_ids: list[str]
    resumed_run_ids: list[str]
    # The key of the page's last run when more follow (the next page's `after`).
    next: Cursor | None = None
