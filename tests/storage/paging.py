"""Keyset paging helpers shared by the run and step list tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, TypeVar

from storage.records import Cursor, Page


class Keyed(Protocol):
    @property
    def created_at(self) -> datetime: ...


T = TypeVar("T")

Fetch = Callable[[int, Cursor | None], Awaitable[Page[T]]]
"""(limit, cursor) -> one page."""


def cursor_after(created_at: datetime, item_id: str) -> Cursor:
    return Cursor(created_at=created_at, id=item_id, forward=True)


def cursor_before(created_at: datetime, item_id: str) -> Cursor:
    return Cursor(created_at=created_at, id=item_id, forward=False)


def flags(page: Page[T]) -> tuple[bool, bool]:
    """(has_prev, has_next)."""
    return page.has_prev, page.has_next


async def walk_forward(
    fetch: Fetch[T], limit: int, key: Callable[[T], tuple[datetime, str]]
) -> list[Page[T]]:
    """Every page from the start, each cursor after the previous page's last item."""
    pages = [await fetch(limit, None)]
    while pages[-1].has_next:
        assert len(pages) < 100, "paging does not end"
        created_at, item_id = key(pages[-1].items[-1])
        pages.append(await fetch(limit, cursor_after(created_at, item_id)))
    return pages


async def walk_backward(
    fetch: Fetch[T], limit: int, key: Callable[[T], tuple[datetime, str]], last: Page[T]
) -> list[Page[T]]:
    """The pages before `last`, each cursor before the next page's first item; in
    front-to-back order, `last` included."""
    pages = [last]
    while pages[0].has_prev:
        assert len(pages) < 100, "paging does not end"
        created_at, item_id = key(pages[0].items[0])
        pages.insert(0, await fetch(limit, cursor_before(created_at, item_id)))
    return pages
