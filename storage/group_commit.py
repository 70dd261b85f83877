"""Group commit: concurrent calls of one kind committed together, each answered after.

A call joins its kind's queue. When no batch of that kind is being committed, the queue
leaves at the next turn of the event loop (so that the calls made by callbacks already
due join it) as one batch: a `*_many` store operation, one transaction for all. Calls
that come while a batch is being committed wait and go together in the next one. There
is no timer: a lone call on an idle server is committed at once (through the single
call's own, cheaper path), and a busy server commits bigger batches, as many calls per
transaction as came during the last one. Each caller gets its own result or error, only
once its batch is committed; one call's error (a lost lease, say) is its alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

P = TypeVar("P")
R = TypeVar("R")

MAX_BATCH = 256

One = Callable[[P], Awaitable[R]]
Many = Callable[[Sequence[P]], Awaitable[Sequence[R | Exception]]]


class GroupCommit(Generic[P, R]):
    """`await batcher(params)` commits `params` alone (`one`) or with others (`many`)."""

    def __init__(self, one: One[P, R], many: Many[P, R], max_batch: int = MAX_BATCH) -> None:
        self._one = one
        self._many = many
        self._max_batch = max_batch
        self._queue: list[tuple[P, asyncio.Future[R]]] = []
        self._busy = False
        self._scheduled = False

    async def __call__(self, params: P) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._queue.append((params, future))
        if not self._busy and not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._start)
        return await future

    def _start(self) -> None:
        self._scheduled = False
        if self._busy or not self._queue:
            return
        batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        self._busy = True
        asyncio.get_running_loop().create_task(self._commit(batch))

    async def _commit(self, batch: list[tuple[P, asyncio.Future[R]]]) -> None:
        try:
            if len(batch) == 1:
                await self._commit_one(*batch[0])
            else:
                await self._commit_many(batch)
        finally:
            self._busy = False
            if self._queue:
                self._start()

    async def _commit_one(self, params: P, future: asyncio.Future[R]) -> None:
        try:
            result = await self._one(params)
        except Exception as exc:
            _settle(future, None, exc)
        else:
            _settle(future, result, None)

    async def _commit_many(self, batch: list[tuple[P, asyncio.Future[R]]]) -> None:
        try:
            results = await self._many([params for params, _ in batch])
        except Exception as exc:  # the whole batch failed (the database went away)
            for _, future in batch:
                _settle(future, None, exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                _settle(future, None, result)
            else:
                _settle(future, result, None)


def _settle(future: asyncio.Future[R], result: R | None, error: Exception | None) -> None:
    if future.done():
        return  # the caller gave up waiting (cancelled); its change stands
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]
