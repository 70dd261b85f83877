"""Synchronous steps run on daemon threads, one per call: a step stuck in blocking code
can be abandoned (cancel, lease loss, shutdown past its grace) without keeping the
worker process from exiting, as a ThreadPoolExecutor's joined threads would."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import Any


def run_in_thread(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any
) -> asyncio.Future[Any]:
    """Call `fn(*args, **kwargs)` on a new daemon thread, in a copy of the caller's
    context; the future resolves on the caller's loop. Cancelling the future abandons
    the call: the thread runs on and its result is dropped."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def target() -> None:
        try:
            result = context.run(fn, *args, **kwargs)
        except BaseException as exc:  # handed to the awaiting coroutine
            _deliver(loop, future, None, exc)
        else:
            _deliver(loop, future, result, None)

    name = f"stepline-step-{getattr(fn, '__name__', 'fn')}"
    threading.Thread(target=target, name=name, daemon=True).start()
    return future


def _deliver(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
) -> None:
    def settle() -> None:
        if future.done():
            return  # abandoned
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    # A closed loop (RuntimeError) means nobody is waiting any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle)
