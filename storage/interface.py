"""The one storage interface. Every backend implements it; tests/storage runs one
conformance suite against each, so backends cannot drift apart.

Rules every implementation keeps:

- Every method is one transaction; timers use the database clock.
- Worker calls are fenced: the run must be RUNNING under `lease.lease_id` with an
  unexpired lease, checked in the transaction that writes (on PostgreSQL in the
  writing statement's WHERE clause; SQLite's one writer holds its write lock while it
  checks). Otherwise nothing changes and the call raises, by `rules.lease_error`:
  RunNotFound, RunDeadlineExceeded (after failing the overdue run in its own
  transaction), or LeaseLost.
- A call that ends an execution (run_complete, run_fail, run_sleep, step_fail) may be a
  repeat of the one that ended it, sent again because its answer was lost: when the run
  left RUNNING by an ending of this very lease and no claim came since (its lease_id is
  still the call's, `rules.repeats_ending`), the call is compared with what was
  recorded. The same result answers the recorded run (and attempt), changing nothing
  and reporting no event; another result raises ExecutionAlreadyEnded. Every ending
  keeps the run's lease_id until the next claim, but a release clears it (a repeated
  release is LeaseLost). Only the slow path pays for it: on PostgreSQL the fenced
  statement that changed nothing, or the locked transaction's refusal.
- A run past `deadline_at` is failed with `rules.DEADLINE_FAILURE` at claim, at any
  worker call and by `run_fail_overdue`; no retry is scheduled at or past a deadline.
- Invariant: only a RUNNING run has RUNNING step attempts, except the one RUNNING
  SLEEP attempt of a SLEEPING run. Whenever a run leaves RUNNING its open attempts are
  closed as FAILED with a Failure saying why (`rules.cancel_failure`, `DEADLINE_FAILURE`,
  `LEASE_EXPIRED_FAILURE` when an expired lease is reclaimed, `ABANDONED_FAILURE`
  when the worker ends the execution with attempts still open, `rules.released_failure`
  when the worker releases the run); when a SLEEPING run is claimed, its sleep attempt
  becomes COMPLETED.
- A step_id is COMPLETED at most once per run.
- Starts, retries, sleeps and releases notify `wake_hub` subscribers of the run's
  (namespace_id, task_queue) once committed, on every server sharing the database.
- Group commit: `run_create`, `step_complete` and `run_complete` calls made at once are
  committed together (storage/group_commit.py) by their `*_many` operation: one
  transaction for the batch, in which each call's change is whole or absent, and each
  caller is answered once it is committed. A call's error is its own: the others commit.
- Once committed, the changes metrics count are reported to `events` by the store that
  made them, exactly once: runs ending (completed, failed, by a deadline too, canceled),
  claims, expired leases taken back, step attempts a worker completed or failed.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from storage.access import (
    ApiKey,
    ApiKeyCreateParams,
    ApiKeyRevokeParams,
    Namespace,
    NamespaceCreateParams,
    NamespaceListParams,
    NamespaceUpdateParams,
)
from storage.events import StoreEvents
from storage.notify import WakeHub
from storage.records import (
    Event,
    EventGetParams,
    EventListParams,
    EventRuns,
    EventRunsParams,
    EventSendParams,
    EventSendResult,
    Page,
    QueueDepth,
    Run,
    RunBatchCancelParams,
    RunBatchReplayParams,
    RunBatchResult,
    RunCancelParams,
    RunClaimParams,
    RunClaimResult,
    RunCompleteParams,
    RunCreateParams,
    RunCreateResult,
    RunFailParams,
    RunGetParams,
    RunHeartbeatParams,
    RunHeartbeatResult,
    RunListParams,
    RunReleaseParams,
    RunReplayParams,
    RunReplayResult,
    RunSleepParams,
    RunSleepResult,
    RunWaitParams,
    RunWaitResult,
    Schedule,
    ScheduleCreateParams,
    ScheduleDueParams,
    ScheduleFireParams,
    ScheduleFireResult,
    ScheduleListParams,
    ScheduleRef,
    ScheduleResumeParams,
    SchedulesDue,
    SignalSendParams,
    SignalSendResult,
    SlotsInUse,
    StepAttempt,
    StepBeginParams,
    StepCompleteParams,
    StepFailParams,
    StepFailResult,
    StepGetParams,
    StepListParams,
)
from storage.registry import (
    Worker,
    WorkerListParams,
    WorkerRegisterParams,
    WorkerTouchParams,
    Workflow,
    WorkflowGetParams,
    WorkflowListParams,
    WorkflowPauseParams,
)
from storage.retention import RunDeleteExpiredParams, RunDeleteExpiredResult


class Store(abc.ABC):
    """Durable state of runs and step attempts."""

    wake_hub: WakeHub
    """Long polls subscribe here to hear about new due work at once."""

    url_for_display: str
    """The database URL with any password masked."""

    events: StoreEvents
    """Receives committed changes (see storage.events); ignores them unless replaced."""

    # --- lifecycle ----------------------------------------------------------------------

    @abc.abstractmethod
    async def migrate(self) -> list[str]:
        """Apply missing migrations in order, each recorded in the migrations table.
        Safe to run from several processes at once. Returns the names applied."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Open connections and start listening for wake-ups."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop listening and close every connection."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers a query."""

    # --- client calls -------------------------------------------------------------------

    @abc.abstractmethod
    async def run_create(self, params: RunCreateParams) -> RunCreateResult:
        """Create a PENDING run with attempt 1, available at `start_at` or now.
        With an idempotency key already used in the namespace: the same workflow name
        returns that run unchanged (`existing=True`), whatever its status; another
        workflow name raises IdempotencyConflict. Concurrent creates with one key
        collapse to one run."""

    @abc.abstractmethod
    async def run_get(self, params: RunGetParams) -> Run:
        """Raise RunNotFound unless the run exists in the namespace."""

    @abc.abstractmethod
    async def run_list(self, params: RunListParams) -> Page[Run]:
        """One page in (created_at, run_id) order, every filter applied."""

    @abc.abstractmethod
    async def run_cancel(self, params: RunCancelParams) -> Run:
        """PENDING/RUNNING/SLEEPING become CANCELED now, the lease void and open step
        attempts FAILED. A CANCELED run is returned as is. COMPLETED or FAILED raise
        RunAlreadyTerminal; a missing run RunNotFound."""

    @abc.abstractmethod
    async def run_replay(self, params: RunReplayParams) -> RunReplayResult:
        """A new PENDING run replaying a COMPLETED, FAILED or CANCELED run: the original's
        workflow, version, task queue, retry policy and context (its "trace" replaced,
        storage/replay.py), its deadline as far after the start, `input` when given, and
        copies of the steps it completed before `from_step_id`. The original is only
        read. RunNotFound, RunNotTerminal, StepNotFound (no step `from_step_id`). With
        an idempotency key already used: that run when it replays the same run
        (`existing=True`), IdempotencyConflict otherwise; concurrent replays with one
        key collapse to one run."""

    @abc.abstractmethod
    async def run_batch_cancel(self, params: RunBatchCancelParams) -> RunBatchResult:
        """One chunk of a batch cancel, in one transaction: of the next `limit` runs
        matching the filters (after `after`, created before `as_of`), the active ones
        are canceled as by run_cancel, the terminal ones skipped. A dry run changes
        nothing. The chunk never locks the table: on PostgreSQL it locks its runs' rows,
        on SQLite it holds the write lock for this chunk only."""

    @abc.abstractmethod
    async def run_batch_replay(self, params: RunBatchReplayParams) -> RunBatchResult:
        """One chunk of a batch replay, in one transaction: each of the next `limit`
        matching runs that is terminal and reached `from_step_id` is replayed as by
        run_replay, the others skipped. A run is replayed at most once per `batch_id`:
        a repeated chunk answers the replays it made before. A dry run changes nothing."""

    @abc.abstractmethod
    async def step_get(self, params: StepGetParams) -> StepAttempt:
        """Raise RunNotFound or StepAttemptNotFound."""

    @abc.abstractmethod
    async def step_list(self, params: StepListParams) -> Page[StepAttempt]:
        """One page of the run's step attempts in (created_at, step_attempt_id) order.
        Raise RunNotFound when the run does not exist."""

    # --- worker calls -------------------------------------------------------------------

    @abc.abstractmethod
    async def run_claim(self, params: RunClaimParams) -> RunClaimResult:
        """Claim up to `max_runs` due runs of the queue, skipping rows other claims hold:
        PENDING and SLEEPING runs whose available_at has passed (oldest first), then
        RUNNING runs whose lease expired. Due runs past their deadline are failed
        instead of claimed. Each claimed run becomes RUNNING with a fresh lease_id,
        worker_id, started_at (first claim only), and available_at = lease expiry."""

    @abc.abstractmethod
    async def run_heartbeat(self, params: RunHeartbeatParams) -> RunHeartbeatResult:
        """Extend the lease to now + lease_duration. When the run was canceled under this
        very lease, return cancel_requested=True instead of raising LeaseLost."""

    @abc.abstractmethod
    async def step_begin(self, params: StepBeginParams) -> StepAttempt:
        """Open a RUNNING attempt (attempt number = earlier attempts of the step_id + 1).
        A COMPLETED step_id is returned instead (memoized); an open attempt of the
        step_id is returned as is (an RPC retry). StepKindMismatch when the step_id is
        recorded with another kind."""

    @abc.abstractmethod
    async def step_complete(self, params: StepCompleteParams) -> StepAttempt:
        """Complete the RUNNING attempt, or record the step COMPLETED in one call (closing
        an open attempt of the step_id if there is one). A step_id that already
        completed returns that attempt unchanged. StepAttemptNotFound, StepNotRunning
        (attempt FAILED), StepKindMismatch."""

    @abc.abstractmethod
    async def step_fail(self, params: StepFailParams) -> StepFailResult:
        """Close the attempt (or record one) as FAILED and end the execution: the run
        becomes PENDING at now + backoff with attempt + 1 and error set, or FAILED when
        the error is non-retryable, attempts are used up, or the retry would fall at or
        after the deadline. StepAlreadyCompleted when the step_id completed before.
        Repeated under the same lease: the attempt and run unchanged when both recorded
        the same error, else ExecutionAlreadyEnded (rules.step_failed_again)."""

    @abc.abstractmethod
    async def run_sleep(self, params: RunSleepParams) -> RunSleepResult:
        """Record a SLEEP attempt and park the run: SLEEPING until wake_up_at, lease
        released. A completed sleep step_id is returned with the run unchanged; a
        wake-up time already passed records the sleep COMPLETED and keeps the run
        RUNNING under the same lease. Repeated under the lease it parked: the sleep and
        run unchanged when they are the same step and wake-up, else ExecutionAlreadyEnded
        (rules.slept_again)."""

    @abc.abstractmethod
    async def run_complete(self, params: RunCompleteParams) -> Run:
        """COMPLETED with output, finished_at set, lease released. Repeated under the same
        lease: the run unchanged when the output is the same JSON value, else
        ExecutionAlreadyEnded (rules.completed_again)."""

    @abc.abstractmethod
    async def run_fail(self, params: RunFailParams) -> Run:
        """Like step_fail without a step: retried by the policy or FAILED. Repeated under
        the same lease: the run unchanged when its recorded error is the same, else
        ExecutionAlreadyEnded (rules.failed_again)."""

    @abc.abstractmethod
    async def run_release(self, params: RunReleaseParams) -> Run:
        """Give the run back before the lease expires (a worker shutting down): PENDING and
        available now, lease_id, lease expiry and worker_id cleared, `attempt` and `error`
        unchanged (a release is not a failure); open attempts FAILED with
        `rules.released_failure(reason)`. Fenced like every worker call; with the lease
        cleared, a repeat is LeaseLost."""

    @abc.abstractmethod
    async def run_wait(self, params: RunWaitParams) -> RunWaitResult:
        """Record waits (storage/waiting.py): a completed step_id is answered as recorded; a
        wait resolvable now (the oldest unconsumed signal of its name, the oldest event of
        its name received since the previous step attempt began that contains its match)
        is recorded COMPLETED; the others RUNNING, a CHILD wait's child run created with
        it, and the run parks WAITING (open FUNCTION attempts abandoned, lease released,
        wake_up_at the earliest timeout). Every wait resolved now: the run stays RUNNING
        under the lease. Repeated under the lease it parked: the steps and run when they
        match, else ExecutionAlreadyEnded (waiting.waited_again)."""

    # --- waits: signals, events, timeouts -------------------------------------------------

    @abc.abstractmethod
    async def signal_send(self, params: SignalSendParams) -> SignalSendResult:
        """Store a signal in the run's inbox; the run's oldest open wait for its name
        consumes it at once (its step COMPLETED with the payload). The same idempotency
        key for the run returns the first signal (`existing`). RunNotFound;
        RunAlreadyTerminal for an ended run."""

    @abc.abstractmethod
    async def event_send(self, params: EventSendParams) -> EventSendResult:
        """Store an event and resolve every open EVENT wait of its name whose match it
        contains and whose `since` it is not before, in one transaction; the runs resumed.
        The same idempotency key in the namespace returns the first event (`existing`)."""

    @abc.abstractmethod
    async def event_get(self, params: EventGetParams) -> Event:
        """Raise EventNotFound unless the event exists in the namespace."""

    @abc.abstractmethod
    async def event_list(self, params: EventListParams) -> Page[Event]:
        """One page in (received_at, event_id) order, every filter applied."""

    @abc.abstractmethod
    async def event_runs(self, params: EventRunsParams) -> EventRuns:
        """One page of the runs the event started or resumed, in the order it reached
        them. EventNotFound."""

    @abc.abstractmethod
    async def wait_expire(self, limit: int) -> int:
        """Resolve up to `limit` waits past their timeout (their steps COMPLETED without
        output), waking runs left with no wait; return how many."""

    # --- access control: namespaces and API keys -----------------------------------------

    @abc.abstractmethod
    async def namespace_create(self, params: NamespaceCreateParams) -> Namespace:
        """Create a namespace; NamespaceAlreadyExists when it exists."""

    @abc.abstractmethod
    async def namespace_get(self, namespace_id: str) -> Namespace:
        """Raise NamespaceNotFound unless the namespace exists."""

    @abc.abstractmethod
    async def namespace_list(self, params: NamespaceListParams) -> list[Namespace]:
        """Up to `limit` namespaces after `after`, in ID order."""

    @abc.abstractmethod
    async def namespace_update(self, params: NamespaceUpdateParams) -> Namespace:
        """Set the fields given; NamespaceNotFound."""

    @abc.abstractmethod
    async def api_key_create(self, params: ApiKeyCreateParams) -> ApiKey:
        """Record a key (its secret's hash only)."""

    @abc.abstractmethod
    async def api_key_get(self, key_id: str) -> ApiKey | None:
        """The key with this ID, revoked or not; None when there is none. A read only:
        a failed authentication writes nothing."""

    @abc.abstractmethod
    async def api_key_list(self, namespace_id: str) -> list[ApiKey]:
        """The namespace's keys ("*": the operator keys), oldest first."""

    @abc.abstractmethod
    async def api_key_revoke(self, params: ApiKeyRevokeParams) -> ApiKey:
        """Set revoked_at (kept when already set); ApiKeyNotFound."""

    @abc.abstractmethod
    async def api_key_touch(self, key_ids: Sequence[str]) -> None:
        """Set last_used_at to now on these keys (the server calls it at most once a
        minute per key)."""

    # --- registry -----------------------------------------------------------------------

    @abc.abstractmethod
    async def worker_register(self, params: WorkerRegisterParams) -> Worker:
        """Record the worker and what it runs, replacing what it registered before, and
        each workflow version (the latest registration describes it; registered_at is the
        first one's). Idempotent. From then on run_claim with this worker_id takes only
        runs of the (workflow_name, version) pairs registered: a run with an empty version
        goes to any version of its name. A worker_id never registered claims any version."""

    @abc.abstractmethod
    async def worker_touch(self, params: WorkerTouchParams) -> None:
        """The worker was seen now (a poll, a stream, a heartbeat); nothing if unknown."""

    @abc.abstractmethod
    async def worker_list(self, params: WorkerListParams) -> list[Worker]:
        """The namespace's registered workers (of one queue when given), by worker_id,
        online or not."""

    @abc.abstractmethod
    async def workflow_list(self, params: WorkflowListParams) -> list[Workflow]:
        """The workflows registered or paused in the namespace, by name; run counts of
        non-terminal runs only."""

    @abc.abstractmethod
    async def workflow_get(self, params: WorkflowGetParams) -> Workflow:
        """One workflow with its versions (newest first) and run counts by status.
        WorkflowNotFound unless it was registered or paused."""

    @abc.abstractmethod
    async def workflow_pause(self, params: WorkflowPauseParams) -> Workflow:
        """Pause (any name, even one never registered) or resume (WorkflowNotFound when
        unknown) a workflow. While paused, run_claim takes none of its runs. A resume
        wakes the polls of the queues holding its runs."""

    # --- group commit -------------------------------------------------------------------

    @abc.abstractmethod
    async def run_create_many(
        self, params: Sequence[RunCreateParams]
    ) -> list[RunCreateResult | Exception]:
        """run_create for each, in one transaction: per call its result or its error."""

    @abc.abstractmethod
    async def step_complete_many(
        self, params: Sequence[StepCompleteParams]
    ) -> list[StepAttempt | Exception]:
        """step_complete for each, in one transaction: per call its result or its error."""

    @abc.abstractmethod
    async def run_complete_many(self, params: Sequence[RunCompleteParams]) -> list[Run | Exception]:
        """run_complete for each, in one transaction: per call its result or its error."""

    # --- maintenance --------------------------------------------------------------------

    @abc.abstractmethod
    async def run_fail_overdue(self, limit: int) -> int:
        """Fail up to `limit` non-terminal runs past their deadline; return how many."""

    @abc.abstractmethod
    async def run_delete_expired(self, params: RunDeleteExpiredParams) -> RunDeleteExpiredResult:
        """Retention, one batch in one transaction: delete up to `limit` runs of the
        namespace that ended (COMPLETED, FAILED, CANCELED) longer than the namespace's
        retention ago, by the database clock, oldest end first, with their step attempts,
        signals, waits and event links. A retention of zero deletes nothing; a run whose
        parent is still active is kept (its parent's history names it). Rows another
        transaction holds are skipped, never waited for, and live runs are not touched, so
        claims never wait on it. On PostgreSQL one server deletes at a time: while
        another transaction holds the retention lock, nothing is deleted and the result
        is `busy`."""

    @abc.abstractmethod
    async def run_count_by_queue(self) -> list[QueueDepth]:
        """How many runs each (namespace, task queue) holds in each non-terminal status
        (PENDING, RUNNING, SLEEPING), in (namespace_id, task_queue, status) order; only
        non-zero counts. One grouped query over the claim indexes: terminal runs are
        history and would make it a scan of the whole table."""

    @abc.abstractmethod
    async def slots_in_use(self) -> list[SlotsInUse]:
        """The concurrency slots held per (namespace, workflow) with a slot held, in
        (namespace_id, workflow_name) order (the stepline_concurrency_slots gauge)."""

    # --- schedules ----------------------------------------------------------------------

    @abc.abstractmethod
    async def schedule_create(self, params: ScheduleCreateParams) -> Schedule:
        """A new schedule; ScheduleAlreadyExists when its ID is taken in the namespace."""

    @abc.abstractmethod
    async def schedule_get(self, ref: ScheduleRef) -> Schedule:
        """Raise ScheduleNotFound unless the schedule exists."""

    @abc.abstractmethod
    async def schedule_list(self, params: ScheduleListParams) -> Page[Schedule]:
        """One page of the namespace's schedules in schedule_id order."""

    @abc.abstractmethod
    async def schedule_delete(self, ref: ScheduleRef) -> None:
        """Delete the schedule (its runs stay); ScheduleNotFound."""

    @abc.abstractmethod
    async def schedule_pause(self, ref: ScheduleRef) -> Schedule:
        """Paused: it fires nothing (a buffered fire waits too). ScheduleNotFound."""

    @abc.abstractmethod
    async def schedule_resume(self, params: ScheduleResumeParams) -> Schedule:
        """A paused schedule resumes with next_fire_at as given (fires missed while paused
        are not made up); an unpaused one is returned unchanged. ScheduleNotFound."""

    @abc.abstractmethod
    async def schedule_due(self, params: ScheduleDueParams) -> SchedulesDue:
        """Up to `limit` due schedules and up to `limit` whose buffered fire can start,
        with the database clock; only reads."""

    @abc.abstractmethod
    async def schedule_fire(self, params: ScheduleFireParams) -> ScheduleFireResult:
        """One fire, in one transaction under the schedule's lock, as
        storage.schedules.decide_fire says: the run started (its idempotency key makes a
        repeated fire answer the run it started before) and the schedule advanced, or
        LOST with nothing changed when the schedule is not as the caller read it. A
        TRIGGER of a missing schedule raises ScheduleNotFound."""
