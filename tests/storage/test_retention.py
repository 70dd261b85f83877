"""run_delete_expired, retention: runs that ended longer than their namespace's retention
ago are deleted with everything that is theirs, a batch per call; everything else stays.

Every case uses a database of its own (`private_backend`): a server started by another
test package runs retention on the shared database at any moment, and would delete these
expired runs under the counts asserted here. Runs are made expired by moving their
finished_at an hour past the retention rather than by waiting.
"""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg
import pytest

from storage import RunNotFound, Store
from storage.access import NamespaceCreateParams
from storage.records import (
    EventGetParams,
    Run,
    RunCompleteParams,
    RunStatus,
    StepCompleteParams,
)
from storage.retention import RETENTION_LOCK_KEY, RunDeleteExpiredParams
from tests.storage.helpers import (
    HOUR,
    claim_eventually,
    create_run,
    get_run,
    lease_of,
    make_create_params,
    start_run,
    utcnow,
)
from tests.storage.rawsql import RUNS_TABLE, STEPS_TABLE, Backend, count_rows, set_times
from tests.storage.states import make_run
from tests.storage.waits_helpers import child, event, send_event, send_signal, signal, wait_for

RETENTION = HOUR
EVERYTHING = 1_000_000
TERMINAL = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED)
LIVE = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.SLEEPING, RunStatus.WAITING)


async def namespace(store: Store, ns: str, retention: timedelta = RETENTION) -> str:
    await store.namespace_create(NamespaceCreateParams(ns, retention=retention))
    return ns


async def age(backend: Backend, runs: list[Run], past_retention: timedelta = HOUR) -> None:
    """Make the runs look as if they ended `past_retention` longer ago than the retention."""
    ended = utcnow() - RETENTION - past_retention
    await set_times(backend, RUNS_TABLE, [r.run_id for r in runs], finished_at=ended)


async def delete(store: Store, ns: str, limit: int = EVERYTHING) -> int:
    result = await store.run_delete_expired(RunDeleteExpiredParams(ns, limit))
    assert not result.busy
    return result.deleted


async def exists(store: Store, ns: str, run_id: str) -> bool:
    try:
        await get_run(store, ns, run_id)
    except RunNotFound:
        return False
    return True


async def completed_run(store: Store, ns: str, queue: str, key: str | None = None) -> Run:
    claimed = await start_run(store, ns, queue, idempotency_key=key)
    lease = lease_of(claimed)
    await store.step_complete(StepCompleteParams(lease, '"ok"', step_id="charge"))
    return await store.run_complete(RunCompleteParams(lease, output='"done"'))


async def test_retention__deletes_only_ended_runs_past_the_retention(
    private_backend: Backend, ns: str, queue: str
) -> None:
    store = private_backend.store
    await namespace(store, ns)
    expired = [await make_run(store, ns, status) for status in TERMINAL]
    recent = [await make_run(store, ns, status) for status in TERMINAL]
    live = [await make_run(store, ns, status) for status in LIVE]
    await age(private_backend, expired)
    await age(private_backend, recent, past_retention=-timedelta(minutes=5))

    assert await delete(store, ns) == len(expired)

    assert [await exists(store, ns, r.run_id) for r in expired] == [False] * 3
    assert [await exists(store, ns, r.run_id) for r in recent] == [True] * 3
    assert [(await get_run(store, ns, r.run_id)).status for r in live] == list(LIVE)
    assert await delete(store, ns) == 0


async def test_retention__zero_keeps_every_run_forever(private_backend: Backend, ns: str) -> None:
    store = private_backend.store
    await namespace(store, ns, retention=timedelta(0))
    ended = [await make_run(store, ns, status) for status in TERMINAL]
    await set_times(
        private_backend,
        RUNS_TABLE,
        [r.run_id for r in ended],
        finished_at=utcnow() - timedelta(days=3650),
    )
    assert await delete(store, ns) == 0
    assert [await exists(store, ns, r.run_id) for r in ended] == [True] * 3


async def test_retention__other_namespaces_are_untouched(private_backend: Backend, ns: str) -> None:
    store = private_backend.store
    other = await namespace(store, f"{ns}-other")
    await namespace(store, ns)
    mine, theirs = (
        await make_run(store, ns, RunStatus.COMPLETED),
        await make_run(store, other, RunStatus.COMPLETED),
    )
    await age(private_backend, [mine, theirs])
    assert await delete(store, ns) == 1
    assert (await exists(store, ns, mine.run_id), await exists(store, other, theirs.run_id)) == (
        False,
        True,
    )


async def test_retention__a_run_goes_with_its_steps_signals_and_event_links(
    private_backend: Backend, ns: str, queue: str
) -> None:
    store = private_backend.store
    await namespace(store, ns)
    claimed = await start_run(store, ns, queue)
    await store.step_complete(StepCompleteParams(lease_of(claimed), '"ok"', step_id="charge"))
    await wait_for(store, claimed, signal("approval", "approved"))
    await send_signal(store, ns, claimed.run.run_id, "approved", {"by": "ann"})
    await send_signal(store, ns, claimed.run.run_id, "never-read", None)
    again = await claim_eventually(store, ns, queue)
    await wait_for(store, again, event("paid", "payment", {"order": 7}))
    sent = await send_event(store, ns, "payment", {"order": 7})
    assert sent.resumed_run_ids == [claimed.run.run_id]
    last = await claim_eventually(store, ns, queue)
    run = await store.run_complete(RunCompleteParams(lease_of(last), output='"done"'))
    owned = {
        (STEPS_TABLE, "workflow_run_id"): 3,
        ("stepline_signals", "run_id"): 2,
        ("stepline_event_runs", "run_id"): 1,
    }
    assert await rows_of(private_backend, owned, run.run_id) == list(owned.values())
    await age(private_backend, [run])

    assert await delete(store, ns) == 1

    assert await rows_of(private_backend, owned, run.run_id) == [0, 0, 0]
    assert await count_rows(private_backend, RUNS_TABLE, "id", run.run_id) == 0
    # The event itself stays: it is the namespace's, not the run's.
    assert (await store.event_get(EventGetParams(ns, sent.event.event_id))).event_name == "payment"


async def rows_of(backend: Backend, tables: dict[tuple[str, str], int], run_id: str) -> list[int]:
    return [await count_rows(backend, table, column, run_id) for table, column in tables]


async def test_retention__a_child_of_an_active_parent_is_kept_until_the_parent_ends(
    private_backend: Backend, ns: str, queue: str
) -> None:
    store = private_backend.store
    await namespace(store, ns)
    parent = await start_run(store, ns, f"{queue}-parents")
    result = await wait_for(store, parent, child("a", f"{queue}-a"), child("b", f"{queue}-b"))
    first = await claim_eventually(store, ns, f"{queue}-a")
    done = await store.run_complete(RunCompleteParams(lease_of(first), output="1"))
    await age(private_backend, [done])
    assert await get_run(store, ns, parent.run.run_id) is not None

    assert await delete(store, ns) == 0  # the parent still waits for its other child

    second = await claim_eventually(store, ns, f"{queue}-b")
    await store.run_complete(RunCompleteParams(lease_of(second), output="2"))
    woken = await claim_eventually(store, ns, f"{queue}-parents")
    ended = await store.run_complete(RunCompleteParams(lease_of(woken), output="3"))
    children = [await get_run(store, ns, s.child_workflow_run_id or "") for s in result.steps]
    await age(private_backend, [ended, *children])

    assert await delete(store, ns) == 3
    assert not await exists(store, ns, parent.run.run_id)


async def test_retention__batches_take_the_oldest_ends_first(
    private_backend: Backend, ns: str
) -> None:
    store = private_backend.store
    await namespace(store, ns)
    runs = [await make_run(store, ns, RunStatus.COMPLETED) for _ in range(5)]
    for n, run in enumerate(runs):  # runs[0] ended longest ago
        await age(private_backend, [run], past_retention=timedelta(minutes=50 - n))

    assert await delete(store, ns, limit=2) == 2
    assert [await exists(store, ns, r.run_id) for r in runs] == [False, False, True, True, True]
    assert [await delete(store, ns, limit=2) for _ in range(3)] == [2, 1, 0]
    assert [await exists(store, ns, r.run_id) for r in runs] == [False] * 5


async def test_retention__an_idempotency_key_is_forgotten_with_its_run(
    private_backend: Backend, ns: str, queue: str
) -> None:
    store = private_backend.store
    await namespace(store, ns)
    first = await completed_run(store, ns, queue, key="order-7")
    await age(private_backend, [first])
    assert await delete(store, ns) == 1

    again = await store.run_create(make_create_params(ns, queue, idempotency_key="order-7"))
    assert not again.existing
    assert again.run.run_id != first.run_id


@pytest.mark.postgres
async def test_retention__one_server_at_a_time_on_postgres(
    private_backend: Backend, ns: str
) -> None:
    if private_backend.name != "postgres":
        pytest.skip("the retention lock is PostgreSQL's; SQLite's write lock serializes")
    store = private_backend.store
    await namespace(store, ns)
    run = await make_run(store, ns, RunStatus.COMPLETED)
    await age(private_backend, [run])
    other = await psycopg.AsyncConnection.connect(private_backend.url)
    async with other, other.transaction():
        await other.execute("SELECT pg_advisory_xact_lock(%s)", [RETENTION_LOCK_KEY])
        held = await store.run_delete_expired(RunDeleteExpiredParams(ns, EVERYTHING))
        assert (held.busy, held.deleted) == (True, 0)
        assert await exists(store, ns, run.run_id)
    assert await delete(store, ns) == 1


async def test_retention__live_runs_in_the_namespace_stay_claimable(
    private_backend: Backend, ns: str, queue: str
) -> None:
    store = private_backend.store
    await namespace(store, ns)
    ended = [await completed_run(store, ns, queue) for _ in range(3)]
    await age(private_backend, ended)
    due = await create_run(store, ns, queue, input=json.dumps({"n": 1}))
    assert await delete(store, ns) == 3
    claimed = await claim_eventually(store, ns, queue)
    assert claimed.run.run_id == due.run_id


@pytest.mark.postgres
async def test_retention__skips_a_run_another_transaction_holds(
    private_backend: Backend, ns: str
) -> None:
    """A replay holds its originals (FOR KEY SHARE) while it copies their steps: retention
    skips them rather than deleting the history under the copy, and takes them later."""
    if private_backend.name != "postgres":
        pytest.skip("SQLite's one writer never runs a replay and a deletion side by side")
    store = private_backend.store
    await namespace(store, ns)
    held, free = [await make_run(store, ns, RunStatus.COMPLETED) for _ in range(2)]
    await age(private_backend, [held, free])
    replaying = await psycopg.AsyncConnection.connect(private_backend.url)
    async with replaying, replaying.transaction():
        hold = "SELECT id FROM stepline_workflow_runs WHERE id = %s::uuid FOR KEY SHARE"
        await replaying.execute(hold, [held.run_id])
        assert await delete(store, ns) == 1
        assert await exists(store, ns, held.run_id)
    assert await delete(store, ns) == 1
    assert not await exists(store, ns, held.run_id)
