"""One execution of one claimed run: the workflow function from the top, completed steps
answered from the claim's step history, the first unfinished step run for real, every
write carrying the claim's lease.

An execution ends (and never writes again) when it completes or fails the run, when a
step fails (FailStep ends it on the server), when a sleep parks the run, when the lease
is lost, or when the run is canceled. `ExecutionEnded` unwinds the workflow's code then:
it derives from BaseException so that a workflow's `except Exception` cannot swallow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opentelemetry.trace import INVALID_SPAN, Span

from stepline import _spans, tracing
from stepline._calls import WorkerCalls
from stepline._common import ExecutionEnded, LogAdapter, failure_of, lease_seconds, slim_failure
from stepline._context import WorkflowContext
from stepline._convert import to_duration, to_python, to_timestamp, to_value
from stepline._errors import (
    DuplicateStepError,
    InvalidArgument,
    LeaseLost,
    NonRetryableError,
    RunDeadlineExceeded,
    ServerUnavailable,
    SteplineError,
)
from stepline._retry import Backoff
from stepline._step import StepRunner
from stepline._threads import run_in_thread
from stepline._values import RetryPolicy
from stepline._waits import WaitBatch, trace_context
from stepline._workflow import AnyWorkflow
from stepline.v1 import common_pb2
from stepline.v1 import step_attempt_pb2 as sa
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr

_FUNCTION = sa.STEP_KIND_FUNCTION
_SLEEP = sa.STEP_KIND_SLEEP
_KIND_NAMES = {
    _FUNCTION: "function",
    _SLEEP: "sleep",
    sa.STEP_KIND_CHILD: "child",
    sa.STEP_KIND_SIGNAL: "signal",
    sa.STEP_KIND_EVENT: "event",
}
# Act as if the lease were lost this long before it expires by the local clock: the
# server's expiry counts from when it handled the claim or beat, a little before we knew.
_LEASE_MARGIN = 0.1


@dataclass(frozen=True, slots=True)
class ExecutionSettings:
    step_begin_after: float
    """A step still running after this many seconds is recorded as RUNNING (BeginStep);
    quicker steps cost one CompleteStep call."""


class Execution:
    """Drive one claimed run; `execute()` is the task the worker keeps per slot."""

    def __init__(
        self,
        calls: WorkerCalls,
        task: wk.RunTask,
        workflow: AnyWorkflow,
        settings: ExecutionSettings,
        logger: logging.Logger,
    ) -> None:
        run = task.run
        self.run_id = run.run_id
        # The claim, sent back unchanged with every call on the run.
        self.lease = task.lease
        self.task = task
        self.workflow = workflow
        self.settings = settings
        self.calls = calls
        self._completed = {
            step.step_id: step
            for step in task.steps
            if step.status == sa.STEP_ATTEMPT_STATUS_COMPLETED
        }
        self._seen: set[str] = set()
        # Attempts the server recorded per step: a step run now is attempt count + 1.
        self._attempts = Counter(step.step_id for step in task.steps)
        self.ended = False
        self.end_reason = ""
        self._runner: asyncio.Task[Any] | None = None
        self.lease_length = lease_seconds(task)
        self.lease_confirmed_at = time.monotonic()
        fields = {"run_id": run.run_id, "workflow": run.workflow_name, "attempt": run.attempt}
        self.log = LogAdapter(logger, fields)
        self.user_log = LogAdapter(logging.getLogger("stepline.workflow"), fields)
        self.span: Span = INVALID_SPAN
        self.spans_on = tracing.active()
        """Whether spans are recorded: asked once, not at every step."""
        self.waits = WaitBatch(self)

    @contextlib.contextmanager
    def traced(self) -> Iterator[None]:
        """The execution's span (from now) and run id current for the block; the span
        ends with the block, recording why the execution ended."""
        self.span = _spans.run_span(self.task.run, self.spans_on)
        with _spans.running(self.span, self.run_id, lambda: self.end_reason or "crashed"):
            yield

    # --- lifecycle ----------------------------------------------------------------------

    def attach(self, runner: asyncio.Task[Any]) -> None:
        """The task that runs `execute()`, cancelled when the execution ends early."""
        self._runner = runner

    def end(self, reason: str) -> None:
        """Stop writing for good; later calls raise ExecutionEnded. Unless the run
        completed, the execution's task is cancelled too, so that steps still running
        beside the one that ended it (`asyncio.gather`) stop with it."""
        if self.ended:
            return
        self.ended = True
        self.end_reason = reason
        runner = self._runner
        # From inside the task itself, the ExecutionEnded being raised unwinds it.
        if reason != "completed" and runner is not None and runner is not asyncio.current_task():
            runner.cancel()

    def confirm_lease(self, since: float) -> None:
        """The server extended the lease on a request sent at monotonic time `since`."""
        self.lease_confirmed_at = max(self.lease_confirmed_at, since)

    def check_lease(self) -> None:
        """End the execution if the lease may have expired by the local clock: after the
        event loop was blocked longer than the lease, no heartbeat could keep it, and
        another worker may be running the run already."""
        if self.ended:
            raise ExecutionEnded(self.end_reason)
        age = time.monotonic() - self.lease_confirmed_at
        if age > self.lease_length * (1 - _LEASE_MARGIN):
            self.end("lease lost")
            self.log.warning("execution stopped (lease lost): no lease confirmed for %.1fs", age)
            raise ExecutionEnded(self.end_reason)

    async def execute(self) -> None:
        try:
            await self._run_workflow()
        except ExecutionEnded:
            pass
        except asyncio.CancelledError:
            if not self.ended:
                self.end("cancelled")
                raise
            # Cancelled because the execution ended (run canceled, lease lost, a step
            # failed in a gather, shutdown): end quietly.
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
        self.log.debug("execution ended: %s", self.end_reason)

    async def _run_workflow(self) -> None:
        ctx = WorkflowContext(self)
        try:
            result = await self.workflow.fn(ctx, ctx.input)
            output = to_value(result, f"the result of workflow {self.workflow.name!r}")
        except ExecutionEnded:
            raise
        except (NonRetryableError, InvalidArgument) as exc:
            # Retrying cannot help misuse, or a payload the server refuses.
            await self.fail_workflow(exc, non_retryable=True)
            return
        except Exception as exc:
            await self.fail_workflow(exc, non_retryable=False)
            return
        try:
            await self.call(
                "complete_workflow", wk.CompleteWorkflowRequest(lease=self.lease, output=output)
            )
        except InvalidArgument as exc:
            # The run would otherwise stay RUNNING and crash again at every reclaim.
            refused = NonRetryableError(
                f"the server refused the result of workflow {self.workflow.name!r}: {exc.message}"
            )
            await self.fail_workflow(refused, non_retryable=True)
            return
        self.end("completed")
        self.log.info("run completed")

    async def fail_workflow(self, exc: Exception, non_retryable: bool) -> None:
        _spans.failed(self.span, exc)
        self.log.warning(
            "workflow raised %s: %s", type(exc).__qualname__, exc, exc_info=not non_retryable
        )
        response = await self.call_with_failure(
            "fail_workflow",
            lambda error: wk.FailWorkflowRequest(lease=self.lease, error=error),
            failure_of(exc, non_retryable),
        )
        self.end("failed")
        self.log_failed_run(response.run)

    async def call_with_failure(
        self, kind: str, request: Callable[[common_pb2.Failure], Any], error: Any
    ) -> Any:
        """A FailWorkflow or FailStep; when the server refuses the failure as invalid
        (details or trace over its payload limit), once more with a slimmed failure."""
        try:
            return await self.call(kind, request(error))
        except InvalidArgument as exc:
            self.log.warning("server refused the failure (%s); sending it slimmed", exc.message)
            return await self.call(kind, request(slim_failure(error)))

    def log_failed_run(self, run: wr.WorkflowRun) -> None:
        if run.status == wr.WORKFLOW_RUN_STATUS_FAILED:
            self.log.warning("run failed for good")
        else:
            self.log.info("run will be retried (attempt %d)", run.attempt)

    # --- calls --------------------------------------------------------------------------

    async def call(self, kind: str, request: Any) -> Any:
        """A lease-fenced call (`kind`: its WorkCall field name). Every worker call is safe
        to repeat, so UNAVAILABLE is retried with backoff; LEASE_LOST or a passed deadline
        ends the execution."""
        backoff = None
        while True:
            if self.ended:
                raise ExecutionEnded(self.end_reason)
            try:
                return await self.calls.call(kind, request)
            except SteplineError as error:
                exc = error
            if isinstance(exc, LeaseLost | RunDeadlineExceeded):
                self.end("lease lost" if isinstance(exc, LeaseLost) else "deadline exceeded")
                self.log.warning("execution stopped (%s): %s", self.end_reason, exc.message)
                raise ExecutionEnded(self.end_reason)
            if not isinstance(exc, ServerUnavailable):
                raise exc
            backoff = backoff or Backoff()
            delay = backoff.next_delay()
            self.log.warning("server unavailable, retrying in %.1fs: %s", delay, exc.message)
            await asyncio.sleep(delay)

    async def heartbeat(self, deadline: float) -> wk.RecordHeartbeatResponse:
        request = wk.RecordHeartbeatRequest(lease=self.lease)
        response: wk.RecordHeartbeatResponse = await self.calls.call(
            "record_heartbeat", request, deadline=deadline
        )
        return response

    # --- steps --------------------------------------------------------------------------

    def _claim_step_id(self, step_id: str) -> None:
        if step_id in self._seen:
            raise DuplicateStepError(
                f"step id {step_id!r} is used twice in one execution of workflow "
                f"{self.workflow.name!r}: every step of a run needs its own id"
            )
        self._seen.add(step_id)

    def step_attempt(self, step_id: str) -> int:
        """The attempt number the server gives the step if it is run now."""
        return self._attempts[step_id] + 1

    def _replayed(self, step_id: str) -> None:
        # The step did not run in this execution: an event, not a span.
        self.span.add_event("step replayed", {tracing.STEP_ID: step_id})

    async def run_step(
        self,
        step_id: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        retry: RetryPolicy | None,
    ) -> Any:
        self._claim_step_id(step_id)
        recorded = self._recorded(step_id, _FUNCTION)
        if recorded is not None:
            self._replayed(step_id)
            return to_python(recorded.output)
        return await StepRunner(self, step_id, retry).run(fn, args, kwargs)

    def _recorded(self, step_id: str, kind: sa.StepKind) -> sa.StepAttempt | None:
        """The completed step `step_id`, which must be of `kind`: the workflow's code
        changed under a run if the history recorded another kind of step there."""
        recorded = self._completed.get(step_id)
        if recorded is not None and recorded.kind != kind:
            raise NonRetryableError(
                f"step id {step_id!r} of workflow {self.workflow.name!r} was recorded as a "
                f"{_KIND_NAMES.get(recorded.kind, 'other')} step, but the code now makes it "
                f"a {_KIND_NAMES[kind]} step"
            )
        return recorded

    async def sleep(self, step_id: str, until: datetime | timedelta) -> None:
        self._claim_step_id(step_id)
        if isinstance(until, datetime) and until.tzinfo is None:
            # Misuse: a retry would fail the same way.
            raise NonRetryableError(
                f"sleep_until({step_id!r}) needs a timezone-aware datetime "
                "(e.g. datetime.now(UTC) + ...), not a naive one"
            )
        if self._recorded(step_id, _SLEEP) is not None:
            self._replayed(step_id)
            return
        request = wk.ScheduleSleepRequest(lease=self.lease, step_id=step_id)
        if isinstance(until, datetime):
            request.wake_up_at.CopyFrom(to_timestamp(until, "sleep_until"))
        else:
            request.duration.CopyFrom(to_duration(max(until, timedelta(0))))
        attempt = self.step_attempt(step_id)
        with _spans.step_span(
            f"sleep {step_id}", self.run_id, step_id, attempt, self.spans_on
        ) as span:
            response = await self.call("schedule_sleep", request)
            if response.run.HasField("wake_up_at"):
                span.set_attribute(tracing.WAKE_UP_AT, response.run.wake_up_at.ToJsonString())
        if response.run.status == wr.WORKFLOW_RUN_STATUS_SLEEPING:
            # The server parked the run and released the lease: this execution is over.
            self.end("sleeping")
            self.log.info("run sleeps until %s", response.run.wake_up_at.ToJsonString())
            raise ExecutionEnded(self.end_reason)

    async def wait_step(self, wait: wk.Wait, kind: sa.StepKind) -> sa.StepAttempt:
        """A child, signal or event wait: its recorded step, or the step once the server
        resolved it (stepline/_waits.py); the execution ends if the run parks instead."""
        step_id = wait.step_id
        self._claim_step_id(step_id)
        recorded = self._recorded(step_id, kind)
        if recorded is not None:
            self._replayed(step_id)
            return recorded
        name = f"{_KIND_NAMES[kind]} {step_id}"
        attempt = self.step_attempt(step_id)
        with _spans.step_span(name, self.run_id, step_id, attempt, self.spans_on):
            if wait.HasField("child") and (trace := trace_context()) is not None:
                # The child's runs continue this step's span.
                wait.child.context.update(trace)
            return await self.waits.wait(wait)

    async def invoke(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> Any:
        """Call a step function: async ones on the loop, sync ones on a pooled thread."""
        if inspect.iscoroutinefunction(fn):
            return await fn(*args, **kwargs)
        result = await run_in_thread(fn, args, kwargs)
        if inspect.isawaitable(result):
            return await result
        return result
