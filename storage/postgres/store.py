"""The PostgreSQL Store: psycopg 3 AsyncConnectionPool, SQL from queries.sql.

Each method hands its call to the module of the same name in both backends (runs,
listing, claim, steps, execution, endings, batches, replays, schema); see PostgresStore
for how they write.
"""

from __future__ import annotations

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
from storage.group_commit import GroupCommit
from storage.interface import Store
from storage.notify import QueueKey, WakeHub
from storage.postgres import (
    access,
    batches,
    claim,
    endings,
    events,
    execution,
    listing,
    registry,
    replays,
    retention,
    runs,
    schedules,
    schema,
    signals,
    steps,
    waits,
)
from storage.postgres.database import Database, mask_password
from storage.postgres.listener import Listener
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


class PostgresStore(Store):
    """Durable state on PostgreSQL, shared by every server pointed at the database.

    A worker call writes in one of two ways, both fenced on its lease:

    - **One fenced statement**, for the calls on the hot path whose write needs nothing
      read first: heartbeat, begin and complete a step, complete and release a run. A
      single statement in autocommit carries the lease fence (the `lease_fence`
      fragment of queries.sql) in its WHERE clause, so checking the lease and writing
      are one atomic step and one round trip, with no row lock held between statements.
      When it touches no row, fencing.py reads the run afterwards to say why
      (RunNotFound, RunDeadlineExceeded after failing the overdue run, LeaseLost), or,
      for a completion, whether it repeats the one that ended the run: only a refused
      or repeated call pays that second read. Client calls (create, cancel) are single
      statements too, with no lease to fence.
    - **The locked transaction** (`fencing.fenced`), for the calls whose write depends
      on what the run holds: failing a step or the run (the retry policy and attempt
      decide between a retry and a final failure) and sleeping (the step's history
      decides whether the sleep is already recorded). It reads the run with
      `run_lock` (SELECT ... FOR NO KEY UPDATE, with the transaction's now()), checks
      the lease in Python by rules.lease_error, and writes with statements that repeat
      the fence; it costs BEGIN, COMMIT and a round trip per statement, so it is used
      only where a decision needs the run's current values. These calls end an
      execution, so they enter it by `fencing.fenced_ending`, which also lets in a
      repeat of the call that ended it, to compare with what was recorded.

    The claim is one statement of its own (FOR NO KEY UPDATE SKIP LOCKED over the
    claim indexes), run in a transaction with the read of the claimed runs' steps.

    Group commit: starts, step completions and run completions that come at once are
    committed together (storage/group_commit.py), each kind by one statement over arrays
    (runs_insert, steps_complete_by_step_id, runs_complete) that fences every call on its
    own run and lease; what one leaves out is done alone after it, to say why.
    """

    def __init__(self, url: str, *, pool_size: int = 10, pool_timeout: float = 10.0) -> None:
        self.url_for_display = mask_password(url)
        self.wake_hub = WakeHub()
        self._db = Database(url, pool_size=pool_size, pool_timeout=pool_timeout)
        self._listener = Listener(url, self.wake_hub)
        self._creates = GroupCommit(self._create_one, self.run_create_many)
        self._step_completions = GroupCommit(self._complete_step_one, self.step_complete_many)
        self._run_completions = GroupCommit(self._complete_run_one, self.run_complete_many)

    @property
    def events(self) -> StoreEvents:
        return self._db.events

    @events.setter
    def events(self, receiver: StoreEvents) -> None:
        self._db.events = receiver

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await self._db.open(self.url_for_display)
        self._listener.start()

    async def close(self) -> None:
        await self._listener.close()
        await self._db.close()

    async def ping(self) -> None:
        await self._db.fetch("ping", {})

    async def migrate(self) -> list[str]:
        return await schema.migrate(self._db)

    # --- client calls -------------------------------------------------------------------

    async def run_create(self, params: RunCreateParams) -> RunCreateResult:
        return await self._creates(params)

    async def _create_one(self, params: RunCreateParams) -> RunCreateResult:
        result = await runs.create(self._db, params)
        self._wake_for([result])
        return result

    def _wake_for(self, results: Sequence[RunCreateResult | Exception]) -> None:
        """Wake this server's own polls and streams for new runs at once, without waiting
        for the NOTIFY (sent too, for every server) to come back through the listener:
        one process hop less on the way to an idle worker. A poll woken twice claims once
        more and finds nothing."""
        queues = {
            (r.run.namespace_id, r.run.task_queue)
            for r in results
            if isinstance(r, RunCreateResult) and not r.existing
        }
        for namespace_id, task_queue in queues:
            self.wake_hub.notify(namespace_id, task_queue)

    async def run_get(self, params: RunGetParams) -> Run:
        return await runs.get(self._db, params)

    async def run_list(self, params: RunListParams) -> Page[Run]:
        return await listing.list_runs(self._db, params)

    async def run_cancel(self, params: RunCancelParams) -> Run:
        return await runs.cancel(self._db, params)

    async def run_replay(self, params: RunReplayParams) -> RunReplayResult:
        return await replays.replay(self._db, params)

    async def run_batch_cancel(self, params: RunBatchCancelParams) -> RunBatchResult:
        return await batches.cancel(self._db, params)

    async def run_batch_replay(self, params: RunBatchReplayParams) -> RunBatchResult:
        return await replays.replay_batch(self._db, params)

    async def step_get(self, params: StepGetParams) -> StepAttempt:
        return await listing.get_step(self._db, params)

    async def step_list(self, params: StepListParams) -> Page[StepAttempt]:
        return await listing.list_steps(self._db, params)

    # --- worker calls -------------------------------------------------------------------

    async def run_claim(self, params: RunClaimParams) -> RunClaimResult:
        return await claim.claim(self._db, params)

    async def run_heartbeat(self, params: RunHeartbeatParams) -> RunHeartbeatResult:
        return await execution.heartbeat(self._db, params)

    async def step_begin(self, params: StepBeginParams) -> StepAttempt:
        return await steps.begin(self._db, params)

    async def step_complete(self, params: StepCompleteParams) -> StepAttempt:
        return await self._step_completions(params)

    async def _complete_step_one(self, params: StepCompleteParams) -> StepAttempt:
        return await steps.complete(self._db, params)

    async def step_fail(self, params: StepFailParams) -> StepFailResult:
        return await steps.fail(self._db, params)

    async def run_sleep(self, params: RunSleepParams) -> RunSleepResult:
        return await execution.run_sleep(self._db, params)

    async def run_complete(self, params: RunCompleteParams) -> Run:
        return await self._run_completions(params)

    async def _complete_run_one(self, params: RunCompleteParams) -> Run:
        return await execution.run_complete(self._db, params)

    async def run_fail(self, params: RunFailParams) -> Run:
        return await execution.run_fail(self._db, params)

    async def run_release(self, params: RunReleaseParams) -> Run:
        return await execution.run_release(self._db, params)

    async def run_wait(self, params: RunWaitParams) -> RunWaitResult:
        return await waits.run_wait(self._db, params)

    # --- waits: signals, events, timeouts -------------------------------------------------

    async def signal_send(self, params: SignalSendParams) -> SignalSendResult:
        woken: set[QueueKey] = set()
        result = await signals.send(self._db, params, woken)
        self._wake_queues(woken)
        return result

    async def event_send(self, params: EventSendParams) -> EventSendResult:
        woken: set[QueueKey] = set()
        result = await events.send(self._db, params, woken)
        self._wake_queues(woken)
        return result

    def _wake_queues(self, woken: set[QueueKey]) -> None:
        """Runs a signal or an event woke: this server's polls are woken at once, as for a
        start (_wake_for); the NOTIFY the transaction sent wakes every other server's."""
        for namespace_id, task_queue in woken:
            self.wake_hub.notify(namespace_id, task_queue)

    async def event_get(self, params: EventGetParams) -> Event:
        return await events.get(self._db, params)

    async def event_list(self, params: EventListParams) -> Page[Event]:
        return await events.list_events(self._db, params)

    async def event_runs(self, params: EventRunsParams) -> EventRuns:
        return await events.runs(self._db, params)

    async def wait_expire(self, limit: int) -> int:
        woken: set[QueueKey] = set()
        expired = await waits.expire(self._db, limit, woken)
        self._wake_queues(woken)
        return expired

    # --- access control ---------------------------------------------------------------

    async def namespace_create(self, params: NamespaceCreateParams) -> Namespace:
        return await access.namespace_create(self._db, params)

    async def namespace_get(self, namespace_id: str) -> Namespace:
        return await access.namespace_get(self._db, namespace_id)

    async def namespace_list(self, params: NamespaceListParams) -> list[Namespace]:
        return await access.namespace_list(self._db, params)

    async def namespace_update(self, params: NamespaceUpdateParams) -> Namespace:
        return await access.namespace_update(self._db, params)

    async def api_key_create(self, params: ApiKeyCreateParams) -> ApiKey:
        return await access.api_key_create(self._db, params)

    async def api_key_get(self, key_id: str) -> ApiKey | None:
        return await access.api_key_get(self._db, key_id)

    async def api_key_list(self, namespace_id: str) -> list[ApiKey]:
        return await access.api_key_list(self._db, namespace_id)

    async def api_key_revoke(self, params: ApiKeyRevokeParams) -> ApiKey:
        return await access.api_key_revoke(self._db, params)

    async def api_key_touch(self, key_ids: Sequence[str]) -> None:
        await access.api_key_touch(self._db, key_ids)

    # --- registry -----------------------------------------------------------------------

    async def worker_register(self, params: WorkerRegisterParams) -> Worker:
        return await registry.register(self._db, params)

    async def worker_touch(self, params: WorkerTouchParams) -> None:
        await registry.touch(self._db, params)

    async def worker_list(self, params: WorkerListParams) -> list[Worker]:
        return await registry.list_workers(self._db, params)

    async def workflow_list(self, params: WorkflowListParams) -> list[Workflow]:
        return await registry.list_workflows(self._db, params)

    async def workflow_get(self, params: WorkflowGetParams) -> Workflow:
        return await registry.get_workflow(self._db, params)

    async def workflow_pause(self, params: WorkflowPauseParams) -> Workflow:
        return await registry.pause(self._db, params)

    # --- group commit -------------------------------------------------------------------

    async def run_create_many(
        self, params: Sequence[RunCreateParams]
    ) -> list[RunCreateResult | Exception]:
        results = await runs.create_many(self._db, params)
        self._wake_for(results)
        return results

    async def step_complete_many(
        self, params: Sequence[StepCompleteParams]
    ) -> list[StepAttempt | Exception]:
        return await steps.complete_many(self._db, params)

    async def run_complete_many(self, params: Sequence[RunCompleteParams]) -> list[Run | Exception]:
        return await execution.run_complete_many(self._db, params)

    # --- maintenance --------------------------------------------------------------------

    async def run_fail_overdue(self, limit: int) -> int:
        return await endings.fail_overdue(self._db, limit)

    async def run_delete_expired(self, params: RunDeleteExpiredParams) -> RunDeleteExpiredResult:
        return await retention.delete_expired(self._db, params)

    async def run_count_by_queue(self) -> list[QueueDepth]:
        return await listing.count_by_queue(self._db)

    async def slots_in_use(self) -> list[SlotsInUse]:
        return await listing.slots_in_use(self._db)

    # --- schedules ----------------------------------------------------------------------

    async def schedule_create(self, params: ScheduleCreateParams) -> Schedule:
        return await schedules.create(self._db, params)

    async def schedule_get(self, ref: ScheduleRef) -> Schedule:
        return await schedules.get(self._db, ref)

    async def schedule_list(self, params: ScheduleListParams) -> Page[Schedule]:
        return await schedules.list_page(self._db, params)

    async def schedule_delete(self, ref: ScheduleRef) -> None:
        await schedules.delete(self._db, ref)

    async def schedule_pause(self, ref: ScheduleRef) -> Schedule:
        return await schedules.pause(self._db, ref)

    async def schedule_resume(self, params: ScheduleResumeParams) -> Schedule:
        return await schedules.resume(self._db, params)

    async def schedule_due(self, params: ScheduleDueParams) -> SchedulesDue:
        return await schedules.due(self._db, params)

    async def schedule_fire(self, params: ScheduleFireParams) -> ScheduleFireResult:
        result = await schedules.fire(self._db, params)
        if result.run is not None:
            self.wake_hub.notify(result.run.namespace_id, result.run.task_queue)
        return result
