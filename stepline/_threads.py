"""Synchronous steps run on a pool of reusable daemon threads.

A call goes to an idle thread, or to a new one when none is idle: a thread busy with a
step (even one stuck in blocking code forever) is never waited for, so a step can be
abandoned (cancel, lease loss, shutdown past its grace) by dropping its future — the
next call simply gets another thread, and the process can still exit, as it could not
with a ThreadPoolExecutor's joined, bounded threads. A thread returns to the pool when
its call ends, and exits after `IDLE_SECONDS` without work.

Starting a thread per call cost ~0.27 ms of the event loop's time (Thread.start waits for
the new thread to run) and a quarter of a busy worker's CPU; handing a call to a parked
thread costs a queue put. Results come back to the loop in batches: one wake-up of the
loop delivers every result that finished meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

IDLE_SECONDS = 60.0
# Parked threads beyond this many exit at once instead of waiting for work.
MAX_IDLE_THREADS = 256


class _Job:
    __slots__ = ("args", "context", "delivery", "fn", "future", "kwargs")

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Any,
        future: asyncio.Future[Any],
        delivery: _Delivery,
    ) -> None:
        self.context = contextvars.copy_context()
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.future = future
        self.delivery = delivery

    def run(self) -> None:
        try:
            result = self.context.run(self.fn, *self.args, **self.kwargs)
        except BaseException as exc:  # handed to the awaiting coroutine
            self.delivery.deliver(self.future, None, exc)
        else:
            self.delivery.deliver(self.future, result, None)


class _Delivery:
    """Hands results back to one event loop, waking it once for all that are ready."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._ready: deque[tuple[asyncio.Future[Any], Any, BaseException | None]] = deque()
        self._lock = threading.Lock()
        self._wake_pending = False

    def deliver(
        self, future: asyncio.Future[Any], result: Any, error: BaseException | None
    ) -> None:
        with self._lock:
            self._ready.append((future, result, error))
            if self._wake_pending:
                return
            self._wake_pending = True
        # A closed loop (RuntimeError) means nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._settle_all)

    def _settle_all(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, deque()
            self._wake_pending = False
        for future, result, error in ready:
            if future.done():
                continue  # abandoned
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)


class _StepThread:
    """One daemon thread running the calls it is handed, one at a time."""

    _names = itertools.count(1)

    def __init__(self, pool: StepThreads) -> None:
        self._pool = pool
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        name = f"stepline-step-{next(self._names)}"
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def start(self, job: _Job) -> None:
        self._jobs.put(job)
        self._thread.start()

    def hand(self, job: _Job) -> None:
        self._jobs.put(job)

    def _serve(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                if self._pool.retire(self):
                    return
                continue  # a call was handed to us as we timed out: it is queued
            job.run()
            if not self._pool.park(self):
                return


class StepThreads:
    """The pool. `run(fn, args, kwargs)` from a coroutine; thread-safe otherwise."""

    def __init__(self) -> None:
        self._idle: list[_StepThread] = []
        self._lock = threading.Lock()
        self._deliveries: dict[asyncio.AbstractEventLoop, _Delivery] = {}

    def run(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any
    ) -> asyncio.Future[Any]:
        """Call `fn(*args, **kwargs)` on a pooled daemon thread, in a copy of the caller's
        context; the future resolves on the caller's loop. Cancelling the future abandons
        the call: its thread runs on, out of the pool, and the result is dropped."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        job = _Job(fn, args, kwargs, future, self._delivery(loop))
        with self._lock:
            thread = self._idle.pop() if self._idle else None
        if thread is None:
            _StepThread(self).start(job)
        else:
            thread.hand(job)
        return future

    def _delivery(self, loop: asyncio.AbstractEventLoop) -> _Delivery:
        delivery = self._deliveries.get(loop)
        if delivery is None:
            with self._lock:
                # Closed loops' deliveries go (a process may run one asyncio.run after another).
                for old in [key for key in self._deliveries if key.is_closed()]:
                    del self._deliveries[old]
                delivery = self._deliveries[loop] = _Delivery(loop)
        return delivery

    def park(self, thread: _StepThread) -> bool:
        """A thread finished its call: back to the pool, or exit when enough are idle."""
        with self._lock:
            if len(self._idle) >= MAX_IDLE_THREADS:
                return False
            self._idle.append(thread)
            return True

    def retire(self, thread: _StepThread) -> bool:
        """An idle thread timed out: leave the pool, unless a call was just handed to it."""
        with self._lock:
            if thread in self._idle:
                self._idle.remove(thread)
                return True
            return False


_POOL = StepThreads()


def run_in_thread(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any
) -> asyncio.Future[Any]:
    """`StepThreads.run` on the process's one pool."""
    return _POOL.run(fn, args, kwargs)
