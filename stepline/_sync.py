"""SyncClient: the async Client driven from a private event loop on a daemon thread, so
it works in scripts and in notebooks, where a loop is already running on the caller's
thread (a plain asyncio.run would refuse to start there)."""

from __future__ import annotations

import asyncio
import builtins
import threading
from collections.abc import Coroutine, Generator, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from stepline._batch import Progress
from stepline._client import DEFAULT_TARGET, KEEP_INPUT, Client
from stepline._schedules import Overlap, Schedule
from stepline._values import (
    BatchResult,
    Event,
    EventRuns,
    EventSent,
    Page,
    RetryPolicy,
    Run,
    RunStatus,
    Signal,
    Step,
)
from stepline.tls import TLSSetting

T = TypeVar("T")


class SyncClient:
    """The same methods as Client, blocking; `with SyncClient(...) as client:` or
    `client.close()`. `list()` is a plain iterator that fetches a page at a time."""

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        namespace: str = "default",
        api_key: str | None = None,
        tls: TLSSetting = None,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> None:
        # Built first: bad credentials raise before the loop's thread starts.
        client = Client(target, namespace=namespace, api_key=api_key, tls=tls, metadata=metadata)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="stepline-sync-client", daemon=True
        )
        self._thread.start()
        self._closed = False
        # The client opens its channel on first use, on the loop that uses it: this
        # thread's private loop.
        self._client = client
        self.target = target
        self.namespace = namespace

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coro.close()
            raise RuntimeError("the SyncClient is closed")
        # The call runs in the caller's contextvars, so under its current span (client
        # spans and the traceparent follow it): run_coroutine_threadsafe schedules through
        # call_soon_threadsafe, which runs in a copy of the calling thread's context, and
        # the task is created in that copy. tests/sdk/test_tracing.py holds it to that.
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except BaseException:
            # Interrupted (KeyboardInterrupt, a signal handler's exception): stop the
            # call on the client's loop too, or a `wait()` would poll on forever.
            future.cancel()
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._run(self._client.close())
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(
        self,
        workflow_name: str,
        input: Any = None,
        *,
        version: str = "",
        task_queue: str = "default",
        idempotency_key: str = "",
        context: Mapping[str, Any] | None = None,
        deadline_at: datetime | None = None,
        start_at: datetime | None = None,
        retry_policy: RetryPolicy | None = None,
        priority: int = 0,
        concurrency_key: str = "",
    ) -> Run:
        return self._run(
            self._client.start(
                workflow_name,
                input,
                version=version,
                task_queue=task_queue,
                idempotency_key=idempotency_key,
                context=context,
                deadline_at=deadline_at,
                start_at=start_at,
                retry_policy=retry_policy,
                priority=priority,
                concurrency_key=concurrency_key,
            )
        )

    def list_workflows(self) -> builtins.list[dict[str, Any]]:
        return self._run(self._client.list_workflows())

    def get_workflow(self, workflow_name: str) -> dict[str, Any]:
        return self._run(self._client.get_workflow(workflow_name))

    def pause_workflow(self, workflow_name: str, reason: str = "") -> dict[str, Any]:
        return self._run(self._client.pause_workflow(workflow_name, reason))

    def resume_workflow(self, workflow_name: str) -> dict[str, Any]:
        return self._run(self._client.resume_workflow(workflow_name))

    def list_workers(self, task_queue: str = "") -> builtins.list[dict[str, Any]]:
        return self._run(self._client.list_workers(task_queue))

    def get(self, run_id: str) -> Run:
        return self._run(self._client.get(run_id))

    def list_page(
        self,
        *,
        page_token: str = "",
        page_size: int = 50,
        statuses: Iterable[RunStatus | str] = (),
        workflow_name: str = "",
        task_queue: str = "",
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> Page[Run]:
        return self._run(
            self._client.list_page(
                page_token=page_token,
                page_size=page_size,
                statuses=statuses,
                workflow_name=workflow_name,
                task_queue=task_queue,
                created_after=created_after,
                created_before=created_before,
            )
        )

    def list(
        self,
        *,
        statuses: Iterable[RunStatus | str] = (),
        workflow_name: str = "",
        task_queue: str = "",
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        page_size: int = 100,
    ) -> Generator[Run, None, None]:
        # The async client's own paging, stepped from this thread a run at a time.
        runs = self._client.list(
            statuses=statuses,
            workflow_name=workflow_name,
            task_queue=task_queue,
            created_after=created_after,
            created_before=created_before,
            page_size=page_size,
        )

        async def step() -> tuple[bool, Run | None]:
            try:
                return True, await anext(runs)
            except StopAsyncIteration:
                return False, None

        try:
            while True:
                more, run = self._run(step())
                if not more:
                    return
                assert run is not None
                yield run
        finally:
            if not self._closed:
                self._run(runs.aclose())

    def signal(
        self, run_id: str, signal_name: str, payload: Any = None, *, idempotency_key: str = ""
    ) -> Signal:
        return self._run(
            self._client.signal(run_id, signal_name, payload, idempotency_key=idempotency_key)
        )

    def send_event(
        self, event_name: str, data: Mapping[str, Any] | None = None, *, idempotency_key: str = ""
    ) -> EventSent:
        return self._run(self._client.send_event(event_name, data, idempotency_key=idempotency_key))

    def get_event(self, event_id: str) -> Event:
        return self._run(self._client.get_event(event_id))

    def event_runs(self, event_id: str) -> EventRuns:
        return self._run(self._client.event_runs(event_id))

    def children(self, run_id: str) -> builtins.list[Run]:
        return self._run(self._client.children(run_id))

    def cancel(self, run_id: str, reason: str = "") -> Run:
        return self._run(self._client.cancel(run_id, reason))

    def replay(
        self,
        run_id: str,
        *,
        from_step: str = "",
        input: Any = KEEP_INPUT,
        idempotency_key: str = "",
    ) -> Run:
        return self._run(
            self._client.replay(
                run_id, from_step=from_step, input=input, idempotency_key=idempotency_key
            )
        )

    def batch_cancel(
        self,
        *,
        statuses: Iterable[RunStatus | str] = (),
        workflow_name: str = "",
        task_queue: str = "",
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        replay_of_run_id: str = "",
        reason: str = "",
        dry_run: bool = False,
        page_size: int = 500,
        page_token: str = "",
        progress: Progress | None = None,
    ) -> BatchResult:
        """`progress` is called on the client's own thread, between pages."""
        return self._run(
            self._client.batch_cancel(
                statuses=statuses,
                workflow_name=workflow_name,
                task_queue=task_queue,
                created_after=created_after,
                created_before=created_before,
                replay_of_run_id=replay_of_run_id,
                reason=reason,
                dry_run=dry_run,
                page_size=page_size,
                page_token=page_token,
                progress=progress,
            )
        )

    def batch_replay(
        self,
        *,
        statuses: Iterable[RunStatus | str] = (),
        workflow_name: str = "",
        task_queue: str = "",
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        replay_of_run_id: str = "",
        from_step: str = "",
        dry_run: bool = False,
        batch_id: str = "",
        page_size: int = 500,
        page_token: str = "",
        progress: Progress | None = None,
    ) -> BatchResult:
        """`progress` is called on the client's own thread, between pages."""
        return self._run(
            self._client.batch_replay(
                statuses=statuses,
                workflow_name=workflow_name,
                task_queue=task_queue,
                created_after=created_after,
                created_before=created_before,
                replay_of_run_id=replay_of_run_id,
                from_step=from_step,
                dry_run=dry_run,
                batch_id=batch_id,
                page_size=page_size,
                page_token=page_token,
                progress=progress,
            )
        )

    def steps(self, run_id: str) -> builtins.list[Step]:
        return self._run(self._client.steps(run_id))

    def get_step(self, run_id: str, step_attempt_id: str) -> Step:
        return self._run(self._client.get_step(run_id, step_attempt_id))

    def wait(self, run_id: str, *, timeout: float | None = None) -> Run:
        return self._run(self._client.wait(run_id, timeout=timeout))

    def result(self, run_id: str, *, timeout: float | None = None) -> Any:
        return self._run(self._client.result(run_id, timeout=timeout))

    # --- schedules (see Client.create_schedule and the others) --------------------------

    def create_schedule(
        self,
        schedule_id: str,
        workflow_name: str,
        input: Any = None,
        *,
        cron: str = "",
        interval: timedelta | None = None,
        timezone: str = "UTC",
        version: str = "",
        task_queue: str = "default",
        overlap: Overlap | str = Overlap.SKIP,
        catchup_window: timedelta | None = None,
        priority: int = 0,
        paused: bool = False,
    ) -> Schedule:
        return self._run(
            self._client.create_schedule(
                schedule_id,
                workflow_name,
                input,
                cron=cron,
                interval=interval,
                timezone=timezone,
                version=version,
                task_queue=task_queue,
                overlap=overlap,
                catchup_window=catchup_window,
                priority=priority,
                paused=paused,
            )
        )

    def get_schedule(self, schedule_id: str) -> Schedule:
        return self._run(self._client.get_schedule(schedule_id))

    def list_schedules(self, *, page_size: int = 100) -> builtins.list[Schedule]:
        async def collect() -> builtins.list[Schedule]:
            return [s async for s in self._client.list_schedules(page_size=page_size)]

        return self._run(collect())

    def delete_schedule(self, schedule_id: str) -> None:
        self._run(self._client.delete_schedule(schedule_id))

    def pause_schedule(self, schedule_id: str) -> Schedule:
        return self._run(self._client.pause_schedule(schedule_id))

    def resume_schedule(self, schedule_id: str) -> Schedule:
        return self._run(self._client.resume_schedule(schedule_id))

    def trigger_schedule(self, schedule_id: str) -> tuple[Schedule, str]:
        return self._run(self._client.trigger_schedule(schedule_id))
