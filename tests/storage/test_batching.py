"""GroupCommit, the batching under group commit: a lone call goes alone at once, calls
made together go in one batch, calls made while a batch commits go in the next, each
caller gets its own result or error, and a failed batch fails each of its callers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from storage.group_commit import GroupCommit


class Log:
    """What the batcher was asked to commit: ("one", x) or ("many", [x, ...])."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def one(self, x: int) -> int:
        self.calls.append(("one", x))
        await self.release.wait()
        return x * 10

    async def many(self, xs: Sequence[int]) -> list[int | Exception]:
        self.calls.append(("many", list(xs)))
        await self.release.wait()
        return [ValueError(f"odd {x}") if x % 2 else x * 10 for x in xs]


async def test_batching__a_lone_call_is_committed_alone_at_once() -> None:
    log = Log()
    assert await GroupCommit(log.one, log.many)(4) == 40
    assert log.calls == [("one", 4)]


async def test_batching__calls_made_together_go_in_one_batch_each_with_its_result() -> None:
    log = Log()
    batcher = GroupCommit(log.one, log.many)
    results = await asyncio.gather(*(batcher(x) for x in (2, 3, 4)), return_exceptions=True)
    assert log.calls == [("many", [2, 3, 4])]
    assert results[0] == 20 and results[2] == 40
    assert isinstance(results[1], ValueError) and str(results[1]) == "odd 3"


async def test_batching__calls_made_during_a_commit_wait_and_go_together_next() -> None:
    log = Log()
    batcher = GroupCommit(log.one, log.many, max_batch=3)
    log.release.clear()
    first = asyncio.ensure_future(batcher(0))
    await asyncio.sleep(0.01)  # the first is being committed
    later = [asyncio.ensure_future(batcher(x)) for x in (2, 4, 6, 8)]
    await asyncio.sleep(0.01)
    log.release.set()
    assert await first == 0 and [await f for f in later] == [20, 40, 60, 80]
    assert log.calls == [("one", 0), ("many", [2, 4, 6]), ("one", 8)]


async def test_batching__a_failed_batch_fails_each_caller() -> None:
    async def broken(xs: Sequence[int]) -> list[int | Exception]:
        raise ConnectionError("gone")

    batcher = GroupCommit(Log().one, broken)
    results = await asyncio.gather(batcher(1), batcher(2), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    with pytest.raises(ConnectionError):
        await asyncio.gather(batcher(1), batcher(2))
