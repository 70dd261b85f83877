"""One heartbeat loop per running run, at a third of the lease: it extends the lease,
and cancels the run's execution when the server answers that the run was canceled or
that the lease is lost."""

from __future__ import annotations

import asyncio
import time

from stepline._errors import LeaseLost, RunDeadlineExceeded, SteplineError
from stepline._execution import Execution

# Never beat more often than this, whatever the lease (a very short test lease included).
_MIN_INTERVAL = 0.05


class Heartbeat:
    """Beats for one execution until `stop()`; ends the execution (which cancels its
    task) when the run must stop. Between beats it is only a timer: most runs end before
    their first beat is due."""

    def __init__(self, execution: Execution) -> None:
        self._execution = execution
        self._interval = max(execution.lease_length / 3, _MIN_INTERVAL)
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._beating: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._timer = self._loop.call_later(self._interval, self._due)

    def stop(self) -> asyncio.Task[None] | None:
        """Stop beating; returns a beat still in flight, cancelled, for the caller to await."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        beating, self._beating = self._beating, None
        if beating is not None:
            beating.cancel()
        return beating

    def _due(self) -> None:
        self._timer = None
        if not self._execution.ended:
            self._beating = self._loop.create_task(self._beat())

    async def _beat(self) -> None:
        execution = self._execution
        sent = time.monotonic()
        try:
            # A beat slower than the interval is stale; the next one replaces it.
            response = await execution.heartbeat(deadline=self._interval)
        except SteplineError as exc:
            if isinstance(exc, LeaseLost | RunDeadlineExceeded):
                _stop(execution, "lease lost", exc.message)
                return
            # The server may be restarting: beat again at the next tick.
            execution.log.warning("heartbeat failed: %s", exc.message)
        else:
            if response.cancel_requested:
                _stop(execution, "canceled", "the run was canceled")
                return
            execution.confirm_lease(sent)
        self._beating = None
        if not execution.ended:
            self.start()


def _stop(execution: Execution, reason: str, message: str) -> None:
    if execution.ended:
        return
    execution.log.warning("execution stopped (%s): %s", reason, message)
    execution.end(reason)  # cancels the execution's task
