"""run_count_by_queue: non-terminal runs per (namespace, task queue, status), for the
queue-depth gauge. The database is shared, so each test reads its own namespace."""

from __future__ import annotations

from storage import Store
from storage.records import QueueDepth, RunSleepParams, RunStatus
from tests.storage.helpers import HOUR, create_run, lease_of, start_run, utcnow
from tests.storage.states import make_run


async def depths_of(store: Store, ns: str) -> list[QueueDepth]:
    return [depth for depth in await store.run_count_by_queue() if depth.namespace_id == ns]


async def test_queue_depth__counts_each_active_status_per_queue(
    store: Store, ns: str, queue: str
) -> None:
    other, napping = f"{queue}-other", f"{queue}-sleep"
    await create_run(store, ns, queue)
    # A delayed start is PENDING too: depth counts by status, not by due time.
    await create_run(store, ns, queue, start_at=utcnow() + HOUR)
    await start_run(store, ns, other)
    sleeping = lease_of(await start_run(store, ns, napping))
    await store.run_sleep(RunSleepParams(sleeping, "nap", duration=HOUR))

    assert await depths_of(store, ns) == [
        QueueDepth(ns, queue, RunStatus.PENDING, 2),
        QueueDepth(ns, other, RunStatus.RUNNING, 1),
        QueueDepth(ns, napping, RunStatus.SLEEPING, 1),
    ]


async def test_queue_depth__leaves_out_terminal_runs(store: Store, ns: str, queue: str) -> None:
    for status in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED):
        await make_run(store, ns, status, queue=queue)
    assert await depths_of(store, ns) == []
    await make_run(store, ns, RunStatus.RUNNING, queue=queue)
    assert await depths_of(store, ns) == [QueueDepth(ns, queue, RunStatus.RUNNING, 1)]


async def test_queue_depth__is_ordered_by_namespace_queue_and_status(store: Store, ns: str) -> None:
    for queue in ("b", "a"):
        await make_run(store, ns, RunStatus.PENDING, queue=queue)
        await make_run(store, ns, RunStatus.RUNNING, queue=f"{queue}-held")
    assert [(d.task_queue, d.status) for d in await depths_of(store, ns)] == [
        ("a", RunStatus.PENDING),
        ("a-held", RunStatus.RUNNING),
        ("b", RunStatus.PENDING),
        ("b-held", RunStatus.RUNNING),
    ]
