"""What a workflow function sees: `ctx`, with the run's facts and `ctx.step`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from stepline._convert import struct_to_python, to_python
from stepline._values import RetryPolicy

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
