"""Waits in the SDK: child runs, signals and events, registered together.

The waits a workflow reaches at once (`asyncio.gather` of five `invoke`s) go to the server
in one RegisterWaits: the first wait schedules a flush that lets the event loop settle
first, so that every branch of the gather has reached its own wait. The server records
them all and parks the run once (WAITING); it is claimed again when every one of them has
ended, and the new execution answers them from the run's history. Waits the server could
resolve at once (a signal already sent, an event already received) are answered now, and
the run goes on under the same lease.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from stepline import tracing
from stepline._common import ExecutionEnded
from stepline.v1 import step_attempt_pb2 as sa
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr

if TYPE_CHECKING:
    from stepline._execution import Execution

# Loop turns the flush waits for the other branches of a gather to reach their waits.
_SETTLE_TURNS = 3


class WaitBatch:
    """The waits an execution reached and has not yet registered."""

    def __init__(self, execution: Execution) -> None:
        self._execution = execution
        self._pending: list[tuple[wk.Wait, asyncio.Future[sa.StepAttempt]]] = []
        self._flush: asyncio.Task[None] | None = None

    async def wait(self, wait: wk.Wait) -> sa.StepAttempt:
        """The wait's step once it is resolved in this execution; when the run parks
        instead, the execution ends (ExecutionEnded) and a later one answers it."""
        future: asyncio.Future[sa.StepAttempt] = asyncio.get_running_loop().create_future()
        self._pending.append((wait, future))
        if self._flush is None:
            self._flush = asyncio.ensure_future(self._send())
        try:
            return await future
        except asyncio.CancelledError:
            if self._execution.ended:
                raise ExecutionEnded(self._execution.end_reason) from None
            raise

    async def _send(self) -> None:
        for _ in range(_SETTLE_TURNS):
            await asyncio.sleep(0)
        batch, self._pending, self._flush = self._pending, [], None
        execution = self._execution
        request = wk.RegisterWaitsRequest(lease=execution.lease, waits=[w for w, _ in batch])
        try:
            response = await execution.call("register_waits", request)
        except BaseException as exc:  # the waiting branches raise it (ExecutionEnded too)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), step in zip(batch, response.step_attempts, strict=True):
            if step.status == sa.STEP_ATTEMPT_STATUS_COMPLETED and not future.done():
                future.set_result(step)
        if response.run.status == wr.WORKFLOW_RUN_STATUS_WAITING:
            # The server parked the run and released the lease: this execution is over.
            execution.end("waiting")
            execution.log.info("run waits for %s", ", ".join(w.step_id for w, _ in batch))
            for _, future in batch:
                future.cancel()


def trace_context() -> dict[str, Any] | None:
    """The current span's W3C trace context, for a child run to continue it."""
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    if "traceparent" not in carrier:
        return None
    return {tracing.TRACE_KEY: carrier}
