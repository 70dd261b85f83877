"""The SQLite Store: an embedded database file, no server to run.

Every database operation runs in one dedicated worker thread that owns the single
connection; an async method hands it a function that performs a whole transaction.
The event loop never blocks on SQLite, and one connection needs no pool. Concurrent
starts and completions are committed together (group commit): one transaction, one
fsync, for a batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from storage.access import (
    ApiKey,
    ApiKeyCreateParams,
    ApiKeyRevokeParams,
    Namespace,
    NamespaceCreateParams,
    NamespaceListParams,
    NamespaceUpdateParams,
)
from storage.errors import StorageUnavailable
from storage.events import IGNORED, StoreEvents
from storage.group_commit import GroupCommit
from storage.interface import Store
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
    RunStatus,
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
from storage.sqlite import (
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
from storage.sqlite.database import Database, Tx

T = TypeVar("T")


class SqliteStore(Store):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.wake_hub = WakeHub()
        self.url_for_display = f"sqlite:///{path}"
        self.events: StoreEvents = IGNORED
        self._executor: ThreadPoolExecutor | None = None
        self._database: Database | None = None
        self._creates = GroupCommit(self._create_one, self.run_create_many)
        self._step_completions = GroupCommit(self._complete_step_one, self.step_complete_many)
        self._run_completions = GroupCommit(self._complete_run_one, self.run_complete_many)

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stepline-sqlite")
        try:
            self._database = await self._in_worker(lambda: Database.open(self.path))
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise

    async def migrate(self) -> list[str]:
        database = self._open_database()
        return await self._in_worker(lambda: schema.migrate(database))

    async def close(self) -> None:
        executor, database = self._executor, self._database
        if executor is None:
            return
        try:
            if database is not None:
                await self._in_worker(database.close)
        finally:
            self._executor = self._database = None
            # The close job ran last, so the thread is idle and exits at once.
            executor.shutdown(wait=False)

    async def ping(self) -> None:
        database = self._open_database()
        await self._in_worker(database.ping)

    # --- client calls -------------------------------------------------------------------

    async def run_create(self, params: RunCreateParams) -> RunCreateResult:
        return await self._creates(params)

    async def _create_one(self, params: RunCreateParams) -> RunCreateResult:
        result = await self._write(lambda tx: runs.create(tx, params))
        if not result.existing:
            self._notify(result.run)
        return result

    async def run_get(self, params: RunGetParams) -> Run:
        return await self._read(lambda tx: runs.get(tx, params))

    async def run_list(self, params: RunListParams) -> Page[Run]:
        return await self._read(lambda tx: listing.list_runs(tx, params))

    async def run_cancel(self, params: RunCancelParams) -> Run:
        return await self._write(lambda tx: runs.cancel(tx, params))

    async def run_replay(self, params: RunReplayParams) -> RunReplayResult:
        result, queues = await self._write(lambda tx: replays.replay(tx, params))
        self._wake(queues)
        return result

    async def run_batch_cancel(self, params: RunBatchCancelParams) -> RunBatchResult:
        if params.batch.dry_run:
            return await self._read(lambda tx: batches.cancel(tx, params))
        return await self._write(lambda tx: batches.cancel(tx, params))

    async def run_batch_replay(self, params: RunBatchReplayParams) -> RunBatchResult:
        if params.batch.dry_run:
            result, _ = await self._read(lambda tx: replays.replay_batch(tx, params))
            return result
        result, queues = await self._write(lambda tx: replays.replay_batch(tx, params))
        self._wake(queues)
        return result

    async def step_get(self, params: StepGetParams) -> StepAttempt:
        return await self._read(lambda tx: listing.get_step(tx, params))

    async def step_list(self, params: StepListParams) -> Page[StepAttempt]:
        return await self._read(lambda tx: listing.list_steps(tx, params))

    # --- worker calls -------------------------------------------------------------------

    async def run_claim(self, params: RunClaimParams) -> RunClaimResult:
        return await self._write(lambda tx: claim.claim(tx, params))

    async def run_heartbeat(self, params: RunHeartbeatParams) -> RunHeartbeatResult:
        return await self._write(lambda tx: execution.heartbeat(tx, params))

    async def step_begin(self, params: StepBeginParams) -> StepAttempt:
        return await self._write(lambda tx: steps.begin(tx, params))

    async def step_complete(self, params: StepCompleteParams) -> StepAttempt:
        return await self._step_completions(params)

    async def _complete_step_one(self, params: StepCompleteParams) -> StepAttempt:
        return await self._write(lambda tx: steps.complete(tx, params))

    async def step_fail(self, params: StepFailParams) -> StepFailResult:
        result = await self._write(lambda tx: steps.fail(tx, params))
        if result.run.status is RunStatus.PENDING:
            self._notify(result.run)
        return result

    async def run_sleep(self, params: RunSleepParams) -> RunSleepResult:
        result = await self._write(lambda tx: execution.run_sleep(tx, params))
        if result.run.status is RunStatus.SLEEPING:
            self._notify(result.run)
        return result

    async def run_complete(self, params: RunCompleteParams) -> Run:
        return await self._run_completions(params)

    async def _complete_run_one(self, params: RunCompleteParams) -> Run:
        return await self._write(lambda tx: execution.run_complete(tx, params))

    async def run_fail(self, params: RunFailParams) -> Run:
        run = await self._write(lambda tx: execution.run_fail(tx, params))
        if run.status is RunStatus.PENDING:
            self._notify(run)
        return run

    async def run_release(self, params: RunReleaseParams) -> Run:
        run = await self._write(lambda tx: execution.run_release(tx, params))
        self._notify(run)
        return run

    async def run_wait(self, params: RunWaitParams) -> RunWaitResult:
        return await self._write(lambda tx: waits.run_wait(tx, params))

    # --- waits: signals, events, timeouts -------------------------------------------------

    async def signal_send(self, params: SignalSendParams) -> SignalSendResult:
        return await self._write(lambda tx: signals.send(tx, params))

    async def event_send(self, params: EventSendParams) -> EventSendResult:
        result = await self._write(lambda tx: events.send(tx, params))
        if result.started_run_ids:  # wake the polls of the queues the triggers started on
            self._wake({(start.namespace_id, start.task_queue) for start in params.starts})
        return result

    async def event_get(self, params: EventGetParams) -> Event:
        return await self._read(lambda tx: events.get(tx, params))

    async def event_list(self, params: EventListParams) -> Page[Event]:
        return await self._read(lambda tx: events.list_events(tx, params))

    async def event_runs(self, params: EventRunsParams) -> EventRuns:
        return await self._read(lambda tx: events.runs(tx, params))

    async def wait_expire(self, limit: int) -> int:
        return await self._write(lambda tx: waits.expire(tx, limit))

    # --- access control ---------------------------------------------------------------

    async def namespace_create(self, params: NamespaceCreateParams) -> Namespace:
        return await self._write(lambda tx: access.namespace_create(tx, params))

    async def namespace_get(self, namespace_id: str) -> Namespace:
        return await self._read(lambda tx: access.namespace_get(tx, namespace_id))

    async def namespace_list(self, params: NamespaceListParams) -> list[Namespace]:
        return await self._read(lambda tx: access.namespace_list(tx, params))

    async def namespace_update(self, params: NamespaceUpdateParams) -> Namespace:
        return await self._write(lambda tx: access.namespace_update(tx, params))

    async def api_key_create(self, params: ApiKeyCreateParams) -> ApiKey:
        return await self._write(lambda tx: access.api_key_create(tx, params))

    async def api_key_get(self, key_id: str) -> ApiKey | None:
        return await self._read(lambda tx: access.api_key_get(tx, key_id))

    async def api_key_list(self, namespace_id: str) -> list[ApiKey]:
        return await self._read(lambda tx: access.api_key_list(tx, namespace_id))

    async def api_key_revoke(self, params: ApiKeyRevokeParams) -> ApiKey:
        return await self._write(lambda tx: access.api_key_revoke(tx, params))

    async def api_key_touch(self, key_ids: Sequence[str]) -> None:
        await self._write(lambda tx: access.api_key_touch(tx, key_ids))

    # --- registry -----------------------------------------------------------------------

    async def worker_register(self, params: WorkerRegisterParams) -> Worker:
        return await self._write(lambda tx: registry.register(tx, params))

    async def worker_touch(self, params: WorkerTouchParams) -> None:
        await self._write(lambda tx: registry.touch(tx, params))

    async def worker_list(self, params: WorkerListParams) -> list[Worker]:
        return await self._read(lambda tx: registry.list_workers(tx, params))

    async def workflow_list(self, params: WorkflowListParams) -> list[Workflow]:
        return await self._read(lambda tx: registry.list_workflows(tx, params))

    async def workflow_get(self, params: WorkflowGetParams) -> Workflow:
        return await self._read(lambda tx: registry.get_workflow(tx, params))

    async def workflow_pause(self, params: WorkflowPauseParams) -> Workflow:
        workflow, queues = await self._write(lambda tx: registry.pause(tx, params))
        self._wake({(params.namespace_id, queue) for queue in queues})
        return workflow

    # --- group commit: the calls of a batch in one transaction, one fsync ---------------

    async def run_create_many(
        self, params: Sequence[RunCreateParams]
    ) -> list[RunCreateResult | Exception]:
        results = await self._write(lambda tx: tx.each(params, runs.create))
        for result in results:
            if isinstance(result, RunCreateResult) and not result.existing:
                self._notify(result.run)
        return results

    async def step_complete_many(
        self, params: Sequence[StepCompleteParams]
    ) -> list[StepAttempt | Exception]:
        return await self._write(lambda tx: tx.each(params, steps.complete))

    async def run_complete_many(self, params: Sequence[RunCompleteParams]) -> list[Run | Exception]:
        return await self._write(lambda tx: tx.each(params, execution.run_complete))

    # --- maintenance --------------------------------------------------------------------

    async def run_fail_overdue(self, limit: int) -> int:
        return await self._write(lambda tx: endings.fail_overdue(tx, limit))

    async def run_delete_expired(self, params: RunDeleteExpiredParams) -> RunDeleteExpiredResult:
        return await self._write(lambda tx: retention.delete_expired(tx, params))

    async def run_count_by_queue(self) -> list[QueueDepth]:
        return await self._read(listing.count_by_queue)

    async def slots_in_use(self) -> list[SlotsInUse]:
        return await self._read(listing.slots_in_use)

    # --- plumbing -----------------------------------------------------------------------

    # --- schedules ----------------------------------------------------------------------

    async def schedule_create(self, params: ScheduleCreateParams) -> Schedule:
        return await self._write(lambda tx: schedules.create(tx, params))

    async def schedule_get(self, ref: ScheduleRef) -> Schedule:
        return await self._read(lambda tx: schedules.get(tx, ref))

    async def schedule_list(self, params: ScheduleListParams) -> Page[Schedule]:
        return await self._read(lambda tx: schedules.list_page(tx, params))

    async def schedule_delete(self, ref: ScheduleRef) -> None:
        await self._write(lambda tx: schedules.delete(tx, ref))

    async def schedule_pause(self, ref: ScheduleRef) -> Schedule:
        return await self._write(lambda tx: schedules.pause(tx, ref))

    async def schedule_resume(self, params: ScheduleResumeParams) -> Schedule:
        return await self._write(lambda tx: schedules.resume(tx, params))

    async def schedule_due(self, params: ScheduleDueParams) -> SchedulesDue:
        return await self._read(lambda tx: schedules.due(tx, params))

    async def schedule_fire(self, params: ScheduleFireParams) -> ScheduleFireResult:
        result, run = await self._write(lambda tx: schedules.fire(tx, params))
        if run is not None:
            self._notify(run)
        return result

    def _notify(self, run: Run) -> None:
        """Wake the queue's long polls; called on the event loop once committed."""
        self.wake_hub.notify(run.namespace_id, run.task_queue)

    def _wake(self, queues: set[tuple[str, str]]) -> None:
        """Wake the long polls of the queues new runs went to; once committed."""
        for namespace_id, task_queue in queues:
            self.wake_hub.notify(namespace_id, task_queue)

    async def _write(self, op: Callable[[Tx], T]) -> T:
        database = self._open_database()

        def write() -> tuple[T, set[tuple[str, str]]]:
            return database.write(op, self.events), database.take_woken()

        result, woken = await self._in_worker(write)
        # Runs whose waits a trigger resolved (a child that ended) are claimable now.
        self._wake(woken)
        return result

    async def _read(self, op: Callable[[Tx], T]) -> T:
        database = self._open_database()
        return await self._in_worker(lambda: database.read(op))

    def _open_database(self) -> Database:
        if self._database is None:
            raise StorageUnavailable(f"the SQLite store {self.url_for_display} is not started")
        return self._database

    async def _in_worker(self, call: Callable[[], T]) -> T:
        if self._executor is None:
            raise StorageUnavailable(f"the SQLite store {self.url_for_display} is not started")
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)
