"""run_list: keyset pages in (created_at, run_id) order, in both directions."""

from __future__ import annotations

from storage import Store
from storage.records import Run
from tests.storage.helpers import create_run, utcnow
from tests.storage.listing import fetcher, ids, list_runs, ordered, run_key
from tests.storage.paging import (
    cursor_after,
    cursor_before,
    flags,
    walk_backward,
    walk_forward,
)
from tests.storage.rawsql import RUNS_TABLE, Backend, set_created_at


async def make_runs(store: Store, ns: str, queue: str, count: int) -> list[Run]:
    return [await create_run(store, ns, queue) for _ in range(count)]


async def test_list__empty_namespace_returns_an_empty_page(store: Store, ns: str) -> None:
    page = await list_runs(store, ns)
    assert page.items == []
    assert flags(page) == (False, False)


async def test_list__returns_runs_in_created_order(store: Store, ns: str, queue: str) -> None:
    runs = await make_runs(store, ns, queue, 5)
    page = await list_runs(store, ns)
    assert ids(page) == ordered(runs)
    assert page.items == sorted(runs, key=run_key)
    assert flags(page) == (False, False)


async def test_list__lists_only_the_namespace(store: Store, ns: str, queue: str) -> None:
    mine = await make_runs(store, ns, queue, 2)
    await create_run(store, f"{ns}-other", queue)
    assert ids(await list_runs(store, ns)) == ordered(mine)


async def test_list__first_page_has_next_when_more_remain(
    store: Store, ns: str, queue: str
) -> None:
    runs = await make_runs(store, ns, queue, 5)
    page = await list_runs(store, ns, limit=2)
    assert ids(page) == ordered(runs)[:2]
    assert flags(page) == (False, True)


async def test_list__exact_limit_page_has_no_next(store: Store, ns: str, queue: str) -> None:
    runs = await make_runs(store, ns, queue, 3)
    page = await list_runs(store, ns, limit=3)
    assert ids(page) == ordered(runs)
    assert flags(page) == (False, False)


async def test_list__forward_pages_cover_every_run_once(store: Store, ns: str, queue: str) -> None:
    runs = await make_runs(store, ns, queue, 7)
    pages = await walk_forward(fetcher(store, ns), 3, run_key)
    assert [ids(p) for p in pages] == [ordered(runs)[0:3], ordered(runs)[3:6], ordered(runs)[6:]]
    assert [flags(p) for p in pages] == [(False, True), (True, True), (True, False)]


async def test_list__backward_pages_reproduce_the_forward_pages(
    store: Store, ns: str, queue: str
) -> None:
    await make_runs(store, ns, queue, 8)
    fetch = fetcher(store, ns)
    forward = await walk_forward(fetch, 3, run_key)
    backward = await walk_backward(fetch, 3, run_key, forward[-1])
    assert [ids(p) for p in backward] == [ids(p) for p in forward]
    assert [flags(p) for p in backward] == [flags(p) for p in forward]


async def test_list__backward_from_the_last_run(store: Store, ns: str, queue: str) -> None:
    runs = await make_runs(store, ns, queue, 7)
    last = sorted(runs, key=run_key)[-1]
    page = await list_runs(store, ns, limit=3, cursor=cursor_before(*run_key(last)))
    assert ids(page) == ordered(runs)[3:6]
    assert flags(page) == (True, True)


async def test_list__cursor_after_the_last_run_returns_an_empty_page(
    store: Store, ns: str, queue: str
) -> None:
    runs = await make_runs(store, ns, queue, 3)
    last = sorted(runs, key=run_key)[-1]
    page = await list_runs(store, ns, limit=3, cursor=cursor_after(*run_key(last)))
    assert page.items == []
    assert page.has_next is False


async def test_list__cursor_before_the_first_run_returns_an_empty_page(
    store: Store, ns: str, queue: str
) -> None:
    runs = await make_runs(store, ns, queue, 3)
    first = sorted(runs, key=run_key)[0]
    page = await list_runs(store, ns, limit=3, cursor=cursor_before(*run_key(first)))
    assert page.items == []
    assert page.has_prev is False


async def test_list__cursor_between_items_needs_no_existing_row(
    store: Store, ns: str, queue: str
) -> None:
    runs = await make_runs(store, ns, queue, 4)
    middle = sorted(runs, key=run_key)[1]
    between = cursor_after(middle.created_at, "ffffffff-ffff-7fff-bfff-ffffffffffff")
    assert ids(await list_runs(store, ns, cursor=between)) == ordered(runs)[2:]


async def test_list__equal_created_at_is_ordered_by_run_id(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    runs = await make_runs(store, ns, queue, 6)
    await set_created_at(backend, RUNS_TABLE, [r.run_id for r in runs], utcnow())
    page = await list_runs(store, ns)
    assert ids(page) == sorted(r.run_id for r in runs)
    assert len({r.created_at for r in page.items}) == 1


async def test_list__paging_through_equal_created_at_keeps_every_run(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    runs = await make_runs(store, ns, queue, 7)
    await set_created_at(backend, RUNS_TABLE, [r.run_id for r in runs], utcnow())
    fetch = fetcher(store, ns)
    forward = await walk_forward(fetch, 2, run_key)
    backward = await walk_backward(fetch, 2, run_key, forward[-1])
    expected = sorted(r.run_id for r in runs)
    assert [i for p in forward for i in ids(p)] == expected
    assert [ids(p) for p in backward] == [ids(p) for p in forward]


async def test_list__ties_across_created_at_groups_order_by_time_first(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    runs = await make_runs(store, ns, queue, 6)
    late, early = utcnow(), utcnow().replace(year=2000)
    await set_created_at(backend, RUNS_TABLE, [r.run_id for r in runs[:3]], late)
    await set_created_at(backend, RUNS_TABLE, [r.run_id for r in runs[3:]], early)
    expected = sorted(r.run_id for r in runs[3:]) + sorted(r.run_id for r in runs[:3])
    pages = await walk_forward(fetcher(store, ns), 4, run_key)
    assert [i for p in pages for i in ids(p)] == expected
