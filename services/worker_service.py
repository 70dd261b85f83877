"""WorkerService: long polls that claim runs, and the lease-fenced calls that record
their steps and results. Fencing itself happens in storage, in the writing statement."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc

from services import convert
from services import validation as v
from services.errors import invalid, rpc
from services.metrics import Metrics
from services.registry import Registry
from services.registry_convert import definitions, schedules, worker_to_proto
from services.waits import wait_specs
from services.work_stream import WorkSession, first_of
from stepline.v1 import registry_pb2
from stepline.v1 import worker_service_pb2 as pb
from stepline.v1 import worker_service_pb2_grpc as pb_grpc
from storage import Store
from storage.records import (
    WAIT_KINDS,
    Lease,
    RunClaimParams,
    RunClaimResult,
    RunCompleteParams,
    RunFailParams,
    RunHeartbeatParams,
    RunReleaseParams,
    RunSleepParams,
    RunWaitParams,
    StepBeginParams,
    StepCompleteParams,
    StepFailParams,
    StepKind,
)
from storage.registry import WorkerRegisterParams

Context = grpc.aio.ServicerContext[Any, Any]

DEFAULT_WAIT = timedelta(seconds=20)
MAX_WAIT = timedelta(seconds=60)
MAX_RUNS = 100
# Like a cancel's reason: a short human sentence, recorded on the released step attempts.
MAX_REASON = 1024
# Leave the reply this much of the client's own deadline to travel back.
_DEADLINE_MARGIN = 0.05
# A due run that the claim skipped is held by another claim right now; look again soon.
_MIN_RECHECK = 0.01

StepEndRequest = pb.CompleteStepRequest | pb.FailStepRequest


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    lease_duration: timedelta
    poll_fallback: timedelta
    """The longest a waiting poll goes without re-checking, in case a wake-up was missed."""
    limits: v.Limits
    max_crashes: int = 3


class WorkerService(pb_grpc.WorkerServiceServicer):
    def __init__(
        self,
        store: Store,
        settings: WorkerSettings,
        shutting_down: asyncio.Event,
        metrics: Metrics,
        registry: Registry,
    ) -> None:
        self._store = store
        self._registry = registry
        self._settings = settings
        self._shutting_down = shutting_down
        self._limits = settings.limits
        self._metrics = metrics

    # --- for the worker stream ----------------------------------------------------------

    @property
    def store(self) -> Store:
        return self._store

    @property
    def shutting_down(self) -> asyncio.Event:
        return self._shutting_down

    @property
    def registry(self) -> Registry:
        return self._registry

    @property
    def max_crashes(self) -> int:
        return self._settings.max_crashes

    @property
    def lease_duration(self) -> timedelta:
        return self._settings.lease_duration

    @property
    def poll_fallback(self) -> float:
        return self._settings.poll_fallback.total_seconds()

    def stream_operations(self) -> dict[str, Callable[[Any], Awaitable[Any]]]:
        """The calls a worker stream carries, by their WorkCall field name."""
        return {
            "record_heartbeat": self.record_heartbeat,
            "begin_step": self.begin_step,
            "complete_step": self.complete_step,
            "fail_step": self.fail_step,
            "schedule_sleep": self.schedule_sleep,
            "register_waits": self.register_waits,
            "complete_workflow": self.complete_workflow,
            "fail_workflow": self.fail_workflow,
            "release_run": self.release_run,
        }

    async def WorkStream(
        self, request_iterator: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> None:
        """The worker stream (services/work_stream.py); its messages are read from `context`."""
        self._metrics.open_worker_streams.inc()
        try:
            await WorkSession(self, context).serve()
        finally:
            self._metrics.open_worker_streams.dec()

    # --- claiming -----------------------------------------------------------------------

    @rpc
    async def PollActivity(
        self, request: pb.PollActivityRequest, context: Context
    ) -> pb.PollActivityResponse:
        params = RunClaimParams(
            namespace_id=v.namespace(request.namespace_id),
            task_queue=v.name(request.task_queue, "task_queue", v.DEFAULT_TASK_QUEUE),
            worker_id=v.text(request.worker_id, "worker_id") or None,
            workflow_names=tuple(
                v.name(n, "workflow_names") for n in dict.fromkeys(request.workflow_names)
            ),
            max_runs=_max_runs(request.max_runs),
            lease_duration=self._settings.lease_duration,
            max_crashes=self._settings.max_crashes,
        )
        wait = _wait(request, context)
        await self._registry.seen(params.namespace_id, params.worker_id)
        result = await self._measured_poll(params, wait)
        return pb.PollActivityResponse(tasks=[convert.task_to_proto(c) for c in result.claimed])

    async def _measured_poll(self, params: RunClaimParams, wait: float) -> RunClaimResult:
        metrics = self._metrics
        started = asyncio.get_running_loop().time()
        metrics.open_long_polls.inc()
        try:
            result = await self._poll(params, wait, started)
        finally:
            metrics.open_long_polls.dec()
        waited = asyncio.get_running_loop().time() - started
        (metrics.poll_got_task if result.claimed else metrics.poll_empty).observe(waited)
        return result

    async def _poll(self, params: RunClaimParams, wait: float, started: float) -> RunClaimResult:
        loop = asyncio.get_running_loop()
        give_up_at = started + wait
        # Subscribe before the first claim: a start committed between an empty claim
        # and the wait below still wakes this poll.
        with self._store.wake_hub.subscribe(params.namespace_id, params.task_queue) as woken:
            while True:
                woken.clear()
                result = await self._store.run_claim(params)
                remaining = give_up_at - loop.time()
                if result.claimed or remaining <= 0 or self._shutting_down.is_set():
                    return result
                await first_of((woken, self._shutting_down), self._recheck_in(result, remaining))

    def _recheck_in(self, result: RunClaimResult, remaining: float) -> float:
        timeout = min(remaining, self._settings.poll_fallback.total_seconds())
        if result.next_due_in is not None:
            timeout = min(timeout, max(result.next_due_in.total_seconds(), _MIN_RECHECK))
        return timeout

    # --- registration -------------------------------------------------------------------

    @rpc
    async def RegisterWorker(
        self, request: registry_pb2.RegisterWorkerRequest, context: Context
    ) -> registry_pb2.RegisterWorkerResponse:
        worker_id = v.text(request.worker_id, "worker_id")
        if not worker_id:
            raise invalid("worker_id", "is required")
        namespace_id = v.namespace(request.namespace_id)
        task_queue = v.name(request.task_queue, "task_queue", v.DEFAULT_TASK_QUEUE)
        params = WorkerRegisterParams(
            namespace_id=namespace_id,
            worker_id=worker_id,
            task_queue=task_queue,
            workflows=definitions(request),
            online_window=self._registry.online_window,
            schedules=schedules(request, task_queue, namespace_id),
        )
        worker = await self._store.worker_register(params)
        self._registry.registered(
            params.namespace_id, worker_id, [d.workflow_name for d in params.workflows]
        )
        return registry_pb2.RegisterWorkerResponse(worker=worker_to_proto(worker))

    # --- lease-fenced calls -------------------------------------------------------------

    @rpc
    async def RecordHeartbeat(
        self, request: pb.RecordHeartbeatRequest, context: Context
    ) -> pb.RecordHeartbeatResponse:
        return await self.record_heartbeat(request)

    async def record_heartbeat(
        self, request: pb.RecordHeartbeatRequest
    ) -> pb.RecordHeartbeatResponse:
        lease = _lease(request.lease)
        await self._registry.seen(lease.namespace_id, lease.worker_id)
        result = await self._store.run_heartbeat(
            RunHeartbeatParams(lease, self._settings.lease_duration)
        )
        response = pb.RecordHeartbeatResponse(cancel_requested=result.cancel_requested)
        if result.lease_expires_at is not None:
            response.lease_expires_at.CopyFrom(convert.timestamp(result.lease_expires_at))
        return response

    @rpc
    async def BeginStep(
        self, request: pb.BeginStepRequest, context: Context
    ) -> pb.BeginStepResponse:
        return await self.begin_step(request)

    async def begin_step(self, request: pb.BeginStepRequest) -> pb.BeginStepResponse:
        step = await self._store.step_begin(
            StepBeginParams(
                lease=_lease(request.lease),
                step_id=v.name(request.step_id, "step_id"),
                kind=_function_kind(request.kind),
                config=v.payload(request, "config", self._limits),
                context=_struct_json(request, self._limits),
            )
        )
        return pb.BeginStepResponse(step_attempt=convert.step_to_proto(step))

    @rpc
    async def CompleteStep(
        self, request: pb.CompleteStepRequest, context: Context
    ) -> pb.CompleteStepResponse:
        return await self.complete_step(request)

    async def complete_step(self, request: pb.CompleteStepRequest) -> pb.CompleteStepResponse:
        attempt_id, step_id = _step_ref(request)
        step = await self._store.step_complete(
            StepCompleteParams(
                lease=_lease(request.lease),
                output=v.payload(request, "output", self._limits),
                step_attempt_id=attempt_id,
                step_id=step_id,
                kind=_function_kind(request.kind),
                config=v.payload(request, "config", self._limits),
                context=_struct_json(request, self._limits),
            )
        )
        return pb.CompleteStepResponse(step_attempt=convert.step_to_proto(step))

    @rpc
    async def FailStep(self, request: pb.FailStepRequest, context: Context) -> pb.FailStepResponse:
        return await self.fail_step(request)

    async def fail_step(self, request: pb.FailStepRequest) -> pb.FailStepResponse:
        attempt_id, step_id = _step_ref(request)
        result = await self._store.step_fail(
            StepFailParams(
                lease=_lease(request.lease),
                error=v.failure(request, "error", self._limits),
                step_attempt_id=attempt_id,
                step_id=step_id,
                kind=_function_kind(request.kind),
                config=v.payload(request, "config", self._limits),
                context=_struct_json(request, self._limits),
            )
        )
        return pb.FailStepResponse(
            step_attempt=convert.step_to_proto(result.step), run=convert.run_to_proto(result.run)
        )

    @rpc
    async def ScheduleSleep(
        self, request: pb.ScheduleSleepRequest, context: Context
    ) -> pb.ScheduleSleepResponse:
        return await self.schedule_sleep(request)

    async def schedule_sleep(self, request: pb.ScheduleSleepRequest) -> pb.ScheduleSleepResponse:
        lease = _lease(request.lease)
        step_id = v.name(request.step_id, "step_id")
        wake_up_at = v.timestamp(request, "wake_up_at")
        duration = v.duration(request, "duration")
        if wake_up_at is None and duration is None:
            raise invalid("wake_up_at", "wake_up_at or duration is required")
        if duration is not None and duration < timedelta(0):
            raise invalid("duration", "must not be negative")
        result = await self._store.run_sleep(
            RunSleepParams(lease=lease, step_id=step_id, wake_up_at=wake_up_at, duration=duration)
        )
        return pb.ScheduleSleepResponse(
            step_attempt=convert.step_to_proto(result.step), run=convert.run_to_proto(result.run)
        )

    @rpc
    async def RegisterWaits(
        self, request: pb.RegisterWaitsRequest, context: Context
    ) -> pb.RegisterWaitsResponse:
        return await self.register_waits(request)

    async def register_waits(self, request: pb.RegisterWaitsRequest) -> pb.RegisterWaitsResponse:
        lease = _lease(request.lease)
        specs = wait_specs(request, self._limits)
        result = await self._store.run_wait(RunWaitParams(lease=lease, waits=specs))
        return pb.RegisterWaitsResponse(
            step_attempts=[convert.step_to_proto(step) for step in result.steps],
            run=convert.run_to_proto(result.run),
        )

    @rpc
    async def CompleteWorkflow(
        self, request: pb.CompleteWorkflowRequest, context: Context
    ) -> pb.CompleteWorkflowResponse:
        return await self.complete_workflow(request)

    async def complete_workflow(
        self, request: pb.CompleteWorkflowRequest
    ) -> pb.CompleteWorkflowResponse:
        run = await self._store.run_complete(
            RunCompleteParams(
                lease=_lease(request.lease), output=v.payload(request, "output", self._limits)
            )
        )
        return pb.CompleteWorkflowResponse(run=convert.run_to_proto(run))

    @rpc
    async def FailWorkflow(
        self, request: pb.FailWorkflowRequest, context: Context
    ) -> pb.FailWorkflowResponse:
        return await self.fail_workflow(request)

    async def fail_workflow(self, request: pb.FailWorkflowRequest) -> pb.FailWorkflowResponse:
        run = await self._store.run_fail(
            RunFailParams(
                lease=_lease(request.lease), error=v.failure(request, "error", self._limits)
            )
        )
        return pb.FailWorkflowResponse(run=convert.run_to_proto(run))

    @rpc
    async def ReleaseRun(
        self, request: pb.ReleaseRunRequest, context: Context
    ) -> pb.ReleaseRunResponse:
        return await self.release_run(request)

    async def release_run(self, request: pb.ReleaseRunRequest) -> pb.ReleaseRunResponse:
        # A worker shutting down hands the run back so another claims it now, not when
        # the lease would have expired.
        run = await self._store.run_release(
            RunReleaseParams(
                lease=_lease(request.lease),
                reason=v.text(request.reason, "reason", max_length=MAX_REASON),
            )
        )
        return pb.ReleaseRunResponse(run=convert.run_to_proto(run))


# --- helpers ----------------------------------------------------------------------------


def _max_runs(value: int) -> int:
    if value == 0:
        return 1
    if not 1 <= value <= MAX_RUNS:
        raise invalid("max_runs", f"must be between 1 and {MAX_RUNS}")
    return value


def _wait(request: pb.PollActivityRequest, context: Context) -> float:
    wait = v.duration(request, "wait")
    if wait is None:
        wait = DEFAULT_WAIT
    if not timedelta(0) <= wait <= MAX_WAIT:
        raise invalid("wait", f"must be between 0s and {int(MAX_WAIT.total_seconds())}s")
    seconds = wait.total_seconds()
    time_remaining = context.time_remaining()
    if time_remaining is not None:
        seconds = min(seconds, max(time_remaining - _DEADLINE_MARGIN, 0.0))
    return seconds


def _function_kind(kind: int) -> StepKind:
    if kind in (0, convert.STEP_KIND[StepKind.FUNCTION]):
        return StepKind.FUNCTION
    if kind == convert.STEP_KIND[StepKind.SLEEP]:
        raise invalid("kind", "sleep steps are recorded with ScheduleSleep")
    if kind in {convert.STEP_KIND[k] for k in WAIT_KINDS}:
        raise invalid("kind", "child, signal and event steps are recorded with RegisterWaits")
    raise invalid("kind", f"{kind} is not a step kind")


def _step_ref(request: StepEndRequest) -> tuple[str | None, str | None]:
    """(step_attempt_id, step_id): an attempt from BeginStep, or a step_id for one call."""
    if request.step_attempt_id:
        attempt_id = v.identifier(request.step_attempt_id, "step_attempt_id")
        return attempt_id, v.optional_name(request.step_id, "step_id")
    return None, v.name(request.step_id, "step_id")


def _struct_json(request: StepEndRequest | pb.BeginStepRequest, limits: v.Limits) -> str | None:
    doc = v.struct(request, "context", limits)
    return None if doc is None else convert.json_text(doc)


def _lease(lease: pb.RunLease) -> Lease:
    """The storage record of a call's RunLease; errors name the field as `lease.<name>`."""
    return Lease(
        namespace_id=v.namespace(lease.namespace_id, "lease.namespace_id"),
        run_id=v.identifier(lease.run_id, "lease.run_id"),
        lease_id=v.identifier(lease.lease_id, "lease.lease_id"),
        worker_id=v.text(lease.worker_id, "lease.worker_id") or None,
    )
