"""One step run for real: the step function (with in-process retries), then one
CompleteStep — or FailStep, which ends the execution. A step still running after
`step_begin_after` is also recorded as RUNNING by a BeginStep sent alongside it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from opentelemetry.trace import INVALID_SPAN, Span

from stepline import _spans, tracing
from stepline._common import ExecutionEnded, LogAdapter, failure_of
from stepline._convert import to_python, to_value
from stepline._errors import (
    InvalidArgument,
    NonRetryableError,
    StepStateError,
)
from stepline._retry import policy_config, step_retry_delay
from stepline._values import RetryPolicy
from stepline.v1 import worker_service_pb2 as wk

if TYPE_CHECKING:
    from stepline._execution import Execution


class StepRunner:
    """One step run for real: in-process retries, then CompleteStep or FailStep."""

    def __init__(self, execution: Execution, step_id: str, retry: RetryPolicy | None) -> None:
        self.execution = execution
        self.step_id = step_id
        self.retry = retry
        self._begin: asyncio.Task[Any] | None = None
        self._config = to_value(policy_config(retry)) if retry is not None else None
        self.span: Span = INVALID_SPAN

    @functools.cached_property
    def log(self) -> LogAdapter:
        extra = {**(self.execution.log.extra or {}), "step_id": self.step_id}
        return LogAdapter(self.execution.log.logger, extra)

    async def run(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> Any:
        """The step under a span of its own (current while `fn` runs, on its thread too,
        so the step's own spans and log lines nest under it)."""
        execution = self.execution
        attempt = execution.step_attempt(self.step_id)
        name = f"step {self.step_id}"
        with _spans.step_span(
            name, execution.run_id, self.step_id, attempt, execution.spans_on
        ) as self.span:
            try:
                return await self._run(fn, args, kwargs)
            finally:
                if self._begin is not None and not self._begin.done():
                    self._begin.cancel()

    async def _run(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await self._attempt(fn, args, kwargs)
                output = to_value(result, f"the output of step {self.step_id!r}")
            except NonRetryableError as exc:
                await self._fail(exc, non_retryable=True)
            except Exception as exc:
                delay = step_retry_delay(self.retry, attempt)
                if delay is None:
                    await self._fail(exc, non_retryable=False)
                self.span.record_exception(exc)  # retried in process: not the step's end
                self.log.warning(
                    "step attempt %d raised %s: %s; retrying in %.1fs",
                    attempt,
                    type(exc).__qualname__,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay or 0)
                continue
            return await self._complete(output)

    async def _attempt(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        timer = None
        # The loop may have been blocked past the lease: then another worker may be
        # running this step already, and the side effect must not happen twice.
        self.execution.check_lease()
        if self._begin is None:
            timer = loop.call_later(self.execution.settings.step_begin_after, self._start_begin)
        try:
            return await self.execution.invoke(fn, args, kwargs)
        finally:
            if timer is not None:
                timer.cancel()

    def _start_begin(self) -> None:
        request = wk.BeginStepRequest(
            lease=self.execution.lease, step_id=self.step_id, config=self._config
        )
        self._begin = asyncio.ensure_future(self.execution.call("begin_step", request))

    async def _await_begin(self) -> None:
        """A BeginStep in flight must land before the step is closed."""
        if self._begin is not None:
            await self._begin

    async def _complete(self, output: Any) -> Any:
        await self._await_begin()
        self.execution.check_lease()
        request = wk.CompleteStepRequest(
            lease=self.execution.lease, step_id=self.step_id, config=self._config, output=output
        )
        try:
            response = await self.execution.call("complete_step", request)
        except (InvalidArgument, StepStateError) as exc:
            # A refused output fails the step for good, like any failed step: workflow
            # code must not be able to catch it and carry on.
            refused = NonRetryableError(
                f"the server refused the output of step {self.step_id!r}: {exc.message}"
            )
            await self._fail(refused, non_retryable=True)
        self._recorded_as(response.step_attempt.attempt)
        # The recorded output, as a later execution would read it back.
        return to_python(response.step_attempt.output)

    def _recorded_as(self, attempt: int) -> None:
        """The attempt number the server recorded, which wins over our estimate."""
        if attempt:
            self.span.set_attribute(tracing.ATTEMPT, attempt)

    async def _fail(self, exc: Exception, non_retryable: bool) -> NoReturn:
        # One line per failure: the stack trace is recorded with the step (see `runs steps`).
        self.log.warning("step failed with %s: %s", type(exc).__qualname__, exc)
        self.log.debug("step failure traceback", exc_info=exc)
        _spans.failed(self.span, exc)
        await self._await_begin()
        try:
            response = await self.execution.call_with_failure(
                "fail_step",
                lambda error: wk.FailStepRequest(
                    lease=self.execution.lease,
                    step_id=self.step_id,
                    config=self._config,
                    error=error,
                ),
                failure_of(exc, non_retryable),
            )
        except (InvalidArgument, StepStateError) as refused:
            # The step cannot be failed (its recorded state does not fit): fail the run.
            await self.execution.fail_workflow(
                NonRetryableError(
                    f"step {self.step_id!r} failed ({exc}) and the server refused to record "
                    f"it: {refused.message}"
                ),
                non_retryable=True,
            )
            raise ExecutionEnded(self.execution.end_reason) from None
        self._recorded_as(response.step_attempt.attempt)
        self.execution.end("step failed")
        self.execution.log_failed_run(response.run)
        raise ExecutionEnded(self.execution.end_reason)
