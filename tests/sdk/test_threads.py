"""The pool of step threads: calls reuse parked threads, a stuck call is abandoned
without holding up the next one, and results, errors and context reach the caller."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from stepline._threads import StepThreads

_who: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


def _thread_name() -> str:
    return threading.current_thread().name


async def test_run__reuses_a_parked_thread_for_the_next_call() -> None:
    pool = StepThreads()

    first = await pool.run(_thread_name, (), {})
    await asyncio.sleep(0.01)  # the thread parks once its result is delivered
    second = await pool.run(_thread_name, (), {})

    assert first == second and first.startswith("stepline-step-")
    assert first != threading.current_thread().name


async def test_run__an_abandoned_stuck_call_does_not_hold_up_the_next() -> None:
    pool = StepThreads()
    release = threading.Event()
    stuck = pool.run(release.wait, (), {})
    await asyncio.sleep(0.01)

    stuck.cancel()  # abandoned: its thread stays blocked and out of the pool
    other = await asyncio.wait_for(pool.run(_thread_name, (), {}), 5)

    assert stuck.cancelled() and other.startswith("stepline-step-")
    release.set()


async def test_run__concurrent_calls_each_get_a_thread_and_every_result_arrives() -> None:
    pool = StepThreads()
    barrier = threading.Barrier(20, timeout=5)

    def meet(n: int) -> int:
        barrier.wait()  # all twenty run at once, or this times out
        return n * n

    results = await asyncio.gather(*(pool.run(meet, (n,), {}) for n in range(20)))

    assert results == [n * n for n in range(20)]


async def test_run__raises_the_call_s_exception_and_runs_in_the_caller_s_context() -> None:
    pool = StepThreads()
    _who.set("caller")

    def fail() -> None:
        raise ValueError(_who.get())

    with pytest.raises(ValueError, match="caller"):
        await pool.run(fail, (), {})
    assert await pool.run(lambda *, x: (_who.get(), x), (), {"x": 1}) == ("caller", 1)
