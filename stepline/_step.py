"""One step run for real: the step function (with in-process retries), then one
CompleteStep — or FailStep, which ends the execution. A step still running after
`step_begin_after` is also recorded as RUNNING by a BeginStep sent alongside it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stepline._common import ExecutionEnded, LogAdapter, failure_of
from stepline._convert import to_python, to_value
from stepline._errors import NonRetryableError, NotSerializableError
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

    @functools.cached_property
    def log(self) -> LogAdapter:
        extra = {**(self.execution.log.extra or {}), "step_id": self.step_id}
        return LogAdapter(self.execution.log.logger, extra)

    def _ref(self) -> dict[str, Any]:
        ref: dict[str, Any] = {**self.execution.lease_fields(), "step_id": self.step_id}
        if self._config is not None:
            ref["config"] = self._config
        return ref

    async def run(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> Any:
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
                output = self._output(result)
            except NonRetryableError as exc:
                await self._fail(exc, non_retryable=True)
            except Exception as exc:
                delay = step_retry_delay(self.retry, attempt)
                if delay is None:
                    await self._fail(exc, non_retryable=False)
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

    def _output(self, result: Any) -> Any:
        try:
            return to_value(result)
        except NotSerializableError as exc:
            where = f"the output of step {self.step_id!r}"
            raise NotSerializableError(str(exc).replace("value", where, 1)) from None

    async def _attempt(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        timer = None
        if self._begin is None:
            timer = loop.call_later(self.execution.settings.step_begin_after, self._start_begin)
        try:
            return await self.execution.invoke(fn, args, kwargs)
        finally:
            if timer is not None:
                timer.cancel()

    def _start_begin(self) -> None:
        request = wk.BeginStepRequest(**self._ref())
        self._begin = asyncio.ensure_future(
            self.execution.call(self.execution.stub.BeginStep, request)
        )

    async def _await_begin(self) -> None:
        """A BeginStep in flight must land before the step is closed."""
        if self._begin is not None:
            await self._begin

    async def _complete(self, output: Any) -> Any:
        await self._await_begin()
        request = wk.CompleteStepRequest(**self._ref(), output=output)
        response = await self.execution.call(self.execution.stub.CompleteStep, request)
        # The recorded output, as a later execution would read it back.
        return to_python(response.step_attempt.output)

    async def _fail(self, exc: Exception, non_retryable: bool) -> Any:
        # One line per failure: the stack trace is recorded with the step (see `runs steps`).
        self.log.warning("step failed with %s: %s", type(exc).__qualname__, exc)
        self.log.debug("step failure traceback", exc_info=exc)
        await self._await_begin()
        request = wk.FailStepRequest(**self._ref(), error=failure_of(exc, non_retryable))
        response = await self.execution.call(self.execution.stub.FailStep, request)
        self.execution.end("step failed")
        self.execution.log_failed_run(response.run)
        raise ExecutionEnded(self.execution.end_reason)
