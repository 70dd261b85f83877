"""The asynchronous client: start, inspect, list, cancel, replay and await workflow runs,
one or a batch at a time."""

from __future__ import annotations

import asyncio
import builtins
import logging
import uuid
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format

from stepline._batch import Progress, RunFilter, run_pages
from stepline._channel import RECONNECT_OPTIONS, pause_before_retry
from stepline._client_waits import WaitCalls
from stepline._convert import fill_struct, fill_value, to_timestamp
from stepline._credentials import Transport
from stepline._errors import RunCanceled, RunFailed, ServerUnavailable, from_rpc_error
from stepline._retry import Backoff
from stepline._schedules import ScheduleCalls
from stepline._spans import client_interceptors
from stepline._values import BatchResult, Page, RetryPolicy, Run, RunStatus, Step
from stepline.tls import TLSSetting
from stepline.v1 import registry_pb2 as rg
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc

log = logging.getLogger("stepline.client")
DEFAULT_TARGET = "127.0.0.1:50051"
Response = TypeVar("Response")
# result()/wait() poll GetWorkflowRun (the API has no server-side wait): start fast, so a
# short run is seen at once, and back off so a long one costs a call every couple of seconds.
_WAIT_FIRST_INTERVAL = 0.05
_WAIT_MAX_INTERVAL = 2.0
_WAIT_GROWTH = 1.5
_STEPS_PAGE_SIZE = 1000
_BATCH_PAGE_SIZE = 500


def _as_dict(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message)


class _Keep:
    def __repr__(self) -> str:
        return "KEEP_INPUT"


KEEP_INPUT: Any = _Keep()
"""replay()'s default input: the replay keeps the original run's input."""


def _list_request(
    namespace: str,
    *,
    page_token: str,
    page_size: int,
    statuses: Iterable[RunStatus | str],
    workflow_name: str,
    task_queue: str,
    created_after: datetime | None,
    created_before: datetime | None,
) -> wf.ListWorkflowRunsRequest:
    request = wf.ListWorkflowRunsRequest(
        namespace_id=namespace,
        page_size=page_size,
        page_token=page_token,
        statuses=[RunStatus.parse(s).proto for s in statuses],  # type: ignore[misc]
        workflow_name=workflow_name,
        task_queue=task_queue,
    )
    if created_after is not None:
        request.created_after.CopyFrom(to_timestamp(created_after, "created_after"))
    if created_before is not None:
        request.created_before.CopyFrom(to_timestamp(created_before, "created_before"))
    return request


class Client(ScheduleCalls, WaitCalls):
    """`async with Client("127.0.0.1:50051") as client:`, or `await client.close()`.

    `api_key` goes with every call as `authorization: Bearer <key>` (default: the
    STEPLINE_API_KEY variable). `tls`: a TLSConfig, True (the system's CAs) or False; by
    default TLS is on when a STEPLINE_TLS_* variable is set (see `stepline.tls`).

    Every method raises the SteplineError subclass of the server's ErrorInfo reason
    (RunNotFound, IdempotencyConflict, InvalidArgument, ServerUnavailable, ...).
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        namespace: str = "default",
        api_key: str | None = None,
        tls: TLSSetting = None,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.target = target
        self.namespace = namespace
        self._transport = Transport(target, tls=tls, api_key=api_key, metadata=metadata)
        self._metadata = self._transport.metadata
        # Made on first use, so that it belongs to the event loop that uses it (a Client
        # may be built before asyncio.run starts the loop).
        self._channel: grpc.aio.Channel | None = None
        self._stub_instance: wf_grpc.WorkflowServiceStub | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def _stub(self) -> wf_grpc.WorkflowServiceStub:
        loop = asyncio.get_running_loop()
        if self._stub_instance is None or loop is not self._loop:
            # A channel works only on the loop it was made on: a Client used by one
            # asyncio.run() and then another gets a new one (the old loop is gone).
            self._channel = self._transport.channel(
                options=RECONNECT_OPTIONS, interceptors=client_interceptors()
            )
            self._stub_instance = wf_grpc.WorkflowServiceStub(self._channel)  # type: ignore[no-untyped-call]
            self._loop = loop
        return self._stub_instance

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close(grace=None)
            self._channel = self._stub_instance = None

    async def _call(self, method: Any, request: Any) -> Any:
        try:
            return await method(request, metadata=self._metadata)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from None

    async def start(
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
        """Start a run (or get the existing one for `idempotency_key`: `run.existing`).
        `priority` 1 (highest) to 5, 0 for the server's default (3)."""
        request = wf.StartWorkflowRequest(
            namespace_id=self.namespace,
            workflow_name=workflow_name,
            version=version,
            task_queue=task_queue,
            idempotency_key=idempotency_key,
            priority=priority,
            concurrency_key=concurrency_key,
        )
        fill_value(request.input, input, "input")
        if context is not None:
            fill_struct(request.context, context, "context")
        if deadline_at is not None:
            request.deadline_at.CopyFrom(to_timestamp(deadline_at, "deadline_at"))
        if start_at is not None:
            request.start_at.CopyFrom(to_timestamp(start_at, "start_at"))
        if retry_policy is not None:
            request.retry_policy.CopyFrom(retry_policy.to_proto())
        response = await self._call(self._stub.StartWorkflow, request)
        for warning in response.warnings:
            log.info("start %s: %s", workflow_name, warning)
        return Run.from_proto(
            response.run, existing=response.existing, warnings=tuple(response.warnings)
        )

    # --- the registry: workflows and workers (plain dicts, shaped as the REST JSON) --------

    async def list_workflows(self) -> builtins.list[dict[str, Any]]:
        """The workflows the server knows: registered by a worker, or paused."""
        request = rg.ListWorkflowsRequest(namespace_id=self.namespace)
        response = await self._call(self._stub.ListWorkflows, request)
        return [_as_dict(w) for w in response.workflows]

    async def get_workflow(self, workflow_name: str) -> dict[str, Any]:
        """One workflow: versions (newest first), paused, schema, workers online, run
        counts. WorkflowNotFound when nothing registered or paused it."""
        request = rg.GetWorkflowRequest(namespace_id=self.namespace, workflow_name=workflow_name)
        response = await self._call(self._stub.GetWorkflow, request)
        return _as_dict(response.workflow)

    async def pause_workflow(self, workflow_name: str, reason: str = "") -> dict[str, Any]:
        """No run of the workflow is claimed until resume_workflow(); starts still work."""
        request = rg.PauseWorkflowRequest(
            namespace_id=self.namespace, workflow_name=workflow_name, reason=reason
        )
        response = await self._call(self._stub.PauseWorkflow, request)
        return _as_dict(response.workflow)

    async def resume_workflow(self, workflow_name: str) -> dict[str, Any]:
        request = rg.ResumeWorkflowRequest(namespace_id=self.namespace, workflow_name=workflow_name)
        response = await self._call(self._stub.ResumeWorkflow, request)
        return _as_dict(response.workflow)

    async def list_workers(self, task_queue: str = "") -> builtins.list[dict[str, Any]]:
        """The workers that registered, online or gone."""
        request = rg.ListWorkersRequest(namespace_id=self.namespace, task_queue=task_queue)
        response = await self._call(self._stub.ListWorkers, request)
        return [_as_dict(w) for w in response.workers]

    async def get(self, run_id: str) -> Run:
        request = wf.GetWorkflowRunRequest(namespace_id=self.namespace, run_id=run_id)
        response = await self._call(self._stub.GetWorkflowRun, request)
        return Run.from_proto(response.run)

    async def list_page(
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
        """One page of runs, oldest first; follow `next_page_token` / `prev_page_token`."""
        request = _list_request(
            self.namespace,
            page_token=page_token,
            page_size=page_size,
            statuses=statuses,
            workflow_name=workflow_name,
            task_queue=task_queue,
            created_after=created_after,
            created_before=created_before,
        )
        response = await self._call(self._stub.ListWorkflowRuns, request)
        return Page(
            items=[Run.from_proto(run) for run in response.workflow_runs],
            next_page_token=response.next_page_token,
            prev_page_token=response.prev_page_token,
            has_more=response.has_more,
        )

    async def list(
        self,
        *,
        statuses: Iterable[RunStatus | str] = (),
        workflow_name: str = "",
        task_queue: str = "",
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        page_size: int = 100,
    ) -> AsyncGenerator[Run, None]:
        """Every matching run, oldest first, fetched a page at a time."""
        statuses = builtins.list(statuses)
        token = ""
        while True:
            page = await self.list_page(
                page_token=token,
                page_size=page_size,
                statuses=statuses,
                workflow_name=workflow_name,
                task_queue=task_queue,
                created_after=created_after,
                created_before=created_before,
            )
            for run in page.items:
                yield run
            if not page.has_more:
                return
            token = page.next_page_token

    async def cancel(self, run_id: str, reason: str = "") -> Run:
        request = wf.CancelWorkflowRunRequest(
            namespace_id=self.namespace, run_id=run_id, reason=reason
        )
        response = await self._call(self._stub.CancelWorkflowRun, request)
        return Run.from_proto(response.run)

    async def replay(
        self,
        run_id: str,
        *,
        from_step: str = "",
        input: Any = KEEP_INPUT,
        idempotency_key: str = "",
    ) -> Run:
        """A new run replaying `run_id`, which must be COMPLETED, FAILED or CANCELED: the
        steps it completed before `from_step` are copied into the new run as completed
        history, so `from_step` and what follows run again (with your worker's current
        code) and nothing before it does. With no `from_step` the run starts over.
        `input` replaces the original's input when given. The original is never changed;
        the new run's `replay_of_run_id` names it. RunNotTerminal, StepNotFound,
        RunNotFound; a repeated `idempotency_key` returns the first replay
        (`run.existing`)."""
        request = wf.ReplayWorkflowRunRequest(
            namespace_id=self.namespace,
            run_id=run_id,
            from_step_id=from_step,
            idempotency_key=idempotency_key,
        )
        if input is not KEEP_INPUT:
            fill_value(request.input, input, "input")
        response = await self._call(self._stub.ReplayWorkflowRun, request)
        return Run.from_proto(response.run, existing=response.existing)

    async def batch_cancel(
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
        page_size: int = _BATCH_PAGE_SIZE,
        page_token: str = "",
        progress: Progress | None = None,
    ) -> BatchResult:
        """Cancel every run matching the filters (those that have not ended), a page of
        up to `page_size` runs per call, each page one transaction on the server; runs
        created after the batch began are left alone. `dry_run` counts and lists them
        and changes nothing. `progress(totals)` is called after each page; `page_token`
        resumes a batch from a `next_page_token` it reported."""
        run_filter = RunFilter.of(
            statuses, workflow_name, task_queue, created_after, created_before, replay_of_run_id
        )

        async def page(token: str) -> Any:
            request = wf.BatchCancelWorkflowRunsRequest(
                namespace_id=self.namespace,
                reason=reason,
                dry_run=dry_run,
                page_size=page_size,
                page_token=token,
            )
            run_filter.fill(request)
            return await self._call(self._stub.BatchCancelWorkflowRuns, request)

        return await run_pages(page, page_token, progress)

    async def batch_replay(
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
        page_size: int = _BATCH_PAGE_SIZE,
        page_token: str = "",
        progress: Progress | None = None,
    ) -> BatchResult:
        """Replay every run matching the filters that has ended (as `replay()` does,
        keeping each one's input), a page per call, each page one transaction. Runs that
        never reached `from_step`, or have not ended, are skipped. The batch replays each
        run at most once, however often a page is sent again: its `batch_id` (made here
        when not given; reported in the result) names it, and resuming with
        `page_token` needs the same one. `run_ids` are the new runs."""
        run_filter = RunFilter.of(
            statuses, workflow_name, task_queue, created_after, created_before, replay_of_run_id
        )
        batch_id = batch_id or str(uuid.uuid4())

        async def page(token: str) -> Any:
            request = wf.BatchReplayWorkflowRunsRequest(
                namespace_id=self.namespace,
                from_step_id=from_step,
                dry_run=dry_run,
                batch_id=batch_id,
                page_size=page_size,
                page_token=token,
            )
            run_filter.fill(request)
            return await self._call(self._stub.BatchReplayWorkflowRuns, request)

        return await run_pages(page, page_token, progress)

    async def steps(self, run_id: str) -> builtins.list[Step]:
        """Every step attempt of the run, oldest first."""
        steps: builtins.list[Step] = []
        token = ""
        while True:
            request = wf.ListStepAttemptsRequest(
                namespace_id=self.namespace,
                run_id=run_id,
                page_size=_STEPS_PAGE_SIZE,
                page_token=token,
            )
            response = await self._call(self._stub.ListStepAttempts, request)
            steps.extend(Step.from_proto(step) for step in response.step_attempts)
            if not response.has_more:
                return steps
            token = response.next_page_token

    async def get_step(self, run_id: str, step_attempt_id: str) -> Step:
        request = wf.GetStepAttemptRequest(
            namespace_id=self.namespace, run_id=run_id, step_attempt_id=step_attempt_id
        )
        response = await self._call(self._stub.GetStepAttempt, request)
        return Step.from_proto(response.step_attempt)

    async def wait(self, run_id: str, *, timeout: float | None = None) -> Run:  # noqa: ASYNC109
        """Wait until the run is COMPLETED, FAILED or CANCELED and return it.
        TimeoutError after `timeout` seconds."""
        async with asyncio.timeout(timeout):
            interval = _WAIT_FIRST_INTERVAL
            while not (run := await self._get_retrying(run_id)).status.terminal:
                await asyncio.sleep(interval)
                interval = min(interval * _WAIT_GROWTH, _WAIT_MAX_INTERVAL)
            return run

    async def _get_retrying(self, run_id: str) -> Run:
        """get(), riding out a server restart: a wait may last longer than one server."""
        backoff = Backoff()
        while True:
            try:
                return await self.get(run_id)
            except ServerUnavailable as exc:
                delay = backoff.next_delay()
                log.warning("server unavailable, retrying in %.1fs: %s", delay, exc.message)
                await pause_before_retry(self._channel, delay, asyncio.Event())

    async def result(self, run_id: str, *, timeout: float | None = None) -> Any:  # noqa: ASYNC109
        """The run's output once COMPLETED; RunFailed or RunCanceled otherwise."""
        run = await self.wait(run_id, timeout=timeout)
        if run.status is RunStatus.FAILED:
            raise RunFailed(run)
        if run.status is RunStatus.CANCELED:
            raise RunCanceled(run)
        return run.output
