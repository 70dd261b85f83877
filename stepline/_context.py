"""What a workflow function sees: `ctx`, with the run's facts and `ctx.step`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from stepline._convert import struct_to_python, to_duration, to_python, to_value
from stepline._errors import ChildRunFailed
from stepline._values import Event, Failure, RetryPolicy
from stepline._workflow import Workflow
from stepline.v1 import step_attempt_pb2 as sa
from stepline.v1 import waits_pb2
from stepline.v1 import worker_service_pb2 as wk

if TYPE_CHECKING:
    import logging

    from stepline._execution import Execution

P = ParamSpec("P")
R = TypeVar("R")


class StepContext:
    """`ctx.step`: durable steps. Each step id is used once per run; a step that completed
    in an earlier execution returns its recorded output without running again."""

    def __init__(self, execution: Execution) -> None:
        self._execution = execution

    # Typed overloads: without `retry`, the arguments are checked against `fn`'s own
    # signature; PEP 612 forbids a keyword parameter between *P.args and **P.kwargs, so a
    # call that passes `retry=` is checked for its result type only.
    @overload
    async def run(
        self, step_id: str, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R: ...
    @overload
    async def run(
        self, step_id: str, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R: ...
    @overload
    async def run(  # type: ignore[overload-cannot-match]
        self,
        step_id: str,
        fn: Callable[..., Awaitable[R]],
        /,
        *args: Any,
        retry: RetryPolicy | None,
        **kwargs: Any,
    ) -> R: ...
    @overload
    async def run(  # type: ignore[overload-cannot-match]
        self,
        step_id: str,
        fn: Callable[..., R],
        /,
        *args: Any,
        retry: RetryPolicy | None,
        **kwargs: Any,
    ) -> R: ...
    async def run(  # type: ignore[misc]
        self,
        step_id: str,
        fn: Callable[..., Any],
        /,
        *args: Any,
        retry: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run `fn(*args, **kwargs)` as the step `step_id` and return its (JSON) output.

        Async functions are awaited; sync ones run on pooled daemon threads. With
        `retry`, a failing attempt is retried in process with backoff; when the step
        still fails, the execution ends and the run is retried from the top by its own
        retry policy. `NonRetryableError` fails the run at once."""
        return await self._execution.run_step(step_id, fn, args, kwargs, retry)

    async def sleep(self, step_id: str, duration: timedelta) -> None:
        """Park the run for `duration` (from the first time this step is reached)."""
        await self._execution.sleep(step_id, duration)

    async def sleep_until(self, step_id: str, until: datetime) -> None:
        """Park the run until `until` (timezone-aware)."""
        await self._execution.sleep(step_id, until)

    async def invoke(
        self,
        step_id: str,
        workflow: Workflow[Any, R] | str,
        input: Any = None,
        *,
        version: str | None = None,
        task_queue: str | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> R:
        """Start a child run of `workflow` (a Workflow, or a workflow name) with `input`,
        and return its output once it completed. A child that failed or was canceled
        raises ChildRunFailed with its Failure (catch it to carry on). The child is
        created with the step, once: re-executing this run never starts a second one.
        The child runs on `task_queue` (default: this run's), and continues this step's
        trace. Several invokes under `asyncio.gather` park the run once, until all ended."""
        name = workflow if isinstance(workflow, str) else workflow.name
        if version is None:
            version = "" if isinstance(workflow, str) else workflow.version
        child = waits_pb2.ChildWait(
            workflow_name=name,
            version=version,
            task_queue=task_queue or "",
            input=to_value(input, f"the input of child step {step_id!r}"),
        )
        if retry_policy is not None:
            child.retry_policy.CopyFrom(retry_policy.to_proto())
        wait = wk.Wait(step_id=step_id, child=child)
        step = await self._execution.wait_step(wait, sa.STEP_KIND_CHILD)
        if step.HasField("error"):
            raise ChildRunFailed(step.child_workflow_run_id, Failure.from_proto(step.error))
        result: R = to_python(step.output) if step.HasField("output") else None  # type: ignore[assignment]
        return result

    async def wait_for_signal(
        self,
        step_id: str,
        signal_name: str,
        *,
        timeout: timedelta | None = None,  # noqa: ASYNC109 - a durable timeout, not asyncio's
    ) -> Any:
        """The payload of the oldest signal `signal_name` sent to this run that no earlier
        wait consumed (one sent before this wait counts); None when `timeout` passes
        first. The run parks (WAITING, no worker busy) until then."""
        wait = wk.Wait(step_id=step_id, signal=waits_pb2.SignalWait(signal_name=signal_name))
        _set_timeout(wait, timeout)
        step = await self._execution.wait_step(wait, sa.STEP_KIND_SIGNAL)
        return to_python(step.output) if step.HasField("output") else None

    async def wait_for_event(
        self,
        step_id: str,
        event_name: str,
        *,
        match: Mapping[str, Any] | None = None,
        timeout: timedelta | None = None,  # noqa: ASYNC109 - a durable timeout, not asyncio's
    ) -> Event | None:
        """The first event `event_name` whose data contains `match` (equal fields; nested
        objects match by containment), or None when `timeout` passes first. Events
        received since the previous step began count, so an event that step caused is
        never missed."""
        event = waits_pb2.EventWait(event_name=event_name)
        if match:
            event.match.update(dict(match))
        wait = wk.Wait(step_id=step_id, event=event)
        _set_timeout(wait, timeout)
        step = await self._execution.wait_step(wait, sa.STEP_KIND_EVENT)
        if not step.HasField("output"):
            return None
        return Event.from_output(to_python(step.output))


def _set_timeout(wait: wk.Wait, timeout: timedelta | None) -> None:
    if timeout is not None:
        wait.duration.CopyFrom(to_duration(max(timeout, timedelta(0))))


class WorkflowContext:
    """The first argument of every workflow function."""

    def __init__(self, execution: Execution) -> None:
        run = execution.task.run
        self.run_id: str = run.run_id
        self.namespace_id: str = run.namespace_id
        self.workflow_name: str = run.workflow_name
        self.version: str = run.version
        self.task_queue: str = run.task_queue
        self.attempt: int = run.attempt
        """1 on the first execution; only failures advance it (not sleeps or reclaims)."""
        self.input: Any = to_python(run.input) if run.HasField("input") else None
        self.step = StepContext(execution)
        self.log: logging.LoggerAdapter[logging.Logger] = execution.user_log
        """Logger "stepline.workflow" with run_id, workflow and attempt in `extra`."""
        self._run = run

    @property
    def context(self) -> dict[str, Any]:
        """The run's caller context (with "trace" when the caller sent a traceparent)."""
        return struct_to_python(self._run.context)
