"""run_fail_overdue, the maintenance sweep. It is global, and a server started by another
test package may sweep the shared database at any moment: tests that count use a private
database; the others assert on their own runs alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import RunDeadlineExceeded, Store
from storage.records import Lease, RunHeartbeatParams, RunSleepParams, RunStatus, StepStatus
from storage.rules import DEADLINE_FAILURE
from tests.storage.fencing import begin_open_step
from tests.storage.helpers import (
    HOUR,
    LEASE,
    claim,
    create_run,
    lease_of,
    snapshot,
    start_run,
    utcnow,
)
from tests.storage.rawsql import Backend, set_deadline
from tests.storage.states import make_run

PAST = timedelta(seconds=1)
EVERYTHING = 1_000_000


async def overdue_runs(backend: Backend, ns: str, queue: str) -> dict[RunStatus, Lease]:
    """A pending, a running (one step open) and a sleeping run, each past its deadline.
    Each with the lease it was last claimed under (a made-up one for the pending run)."""
    store = backend.store
    pending = await create_run(store, ns, queue, deadline_at=utcnow() - PAST)
    running, _ = await begin_open_step(store, ns, f"{queue}-running")
    sleeping = lease_of(await start_run(store, ns, f"{queue}-sleeping"))
    await store.run_sleep(RunSleepParams(sleeping, "nap", duration=HOUR))
    for lease in (running, sleeping):
        await set_deadline(backend, lease.run_id, utcnow() - PAST)
    return {
        RunStatus.PENDING: Lease(ns, pending.run_id, "never-claimed"),
        RunStatus.RUNNING: running,
        RunStatus.SLEEPING: sleeping,
    }


async def test_sweep__fails_overdue_pending_running_and_sleeping_runs(
    private_backend: Backend, ns: str, queue: str
) -> None:
    store = private_backend.store
    runs = await overdue_runs(private_backend, ns, queue)
    for lease in runs.values():
        assert not (await snapshot(store, ns, lease.run_id))[0].status.is_terminal
    assert await store.run_fail_overdue(EVERYTHING) == 3
    for lease in runs.values():
        run, steps = await snapshot(store, ns, lease.run_id)
        assert (run.status, run.error) == (RunStatus.FAILED, DEADLINE_FAILURE)
        assert run.finished_at is not None
        assert all((s.status, s.error) == (StepStatus.FAILED, DEADLINE_FAILURE) for s in steps)
    steps_of = [len((await snapshot(store, ns, lease.run_id))[1]) for lease in runs.values()]
    assert steps_of == [0, 1, 1]


async def test_sweep__leaves_runs_on_time_and_terminal_runs_alone(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    keep = [
        await create_run(store, ns, queue, deadline_at=utcnow() + HOUR),
        await create_run(store, ns, queue),
        await make_run(store, ns, RunStatus.RUNNING, deadline_at=utcnow() + HOUR),
        await make_run(store, ns, RunStatus.SLEEPING, deadline_at=utcnow() + HOUR),
        await make_run(store, ns, RunStatus.COMPLETED),
        await make_run(store, ns, RunStatus.CANCELED),
    ]
    for run in keep[-2:]:
        await set_deadline(backend, run.run_id, utcnow() - PAST)
    before = [await snapshot(store, ns, r.run_id) for r in keep]
    await store.run_fail_overdue(EVERYTHING)
    assert [await snapshot(store, ns, r.run_id) for r in keep] == before


async def test_sweep__fails_at_most_limit_runs_per_call(
    private_backend: Backend, ns: str, queue: str
) -> None:
    store = private_backend.store
    for _ in range(3):
        await create_run(store, ns, queue, deadline_at=utcnow() - PAST)
    assert [await store.run_fail_overdue(2) for _ in range(3)] == [2, 1, 0]


async def test_sweep__returns_zero_when_nothing_is_overdue(
    private_backend: Backend, ns: str, queue: str
) -> None:
    store = private_backend.store
    await create_run(store, ns, queue, deadline_at=utcnow() + HOUR)
    await make_run(store, ns, RunStatus.RUNNING, deadline_at=utcnow() + HOUR)
    assert await store.run_fail_overdue(EVERYTHING) == 0


async def test_sweep__swept_run_is_not_claimed(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    runs = await overdue_runs(backend, ns, queue)
    await store.run_fail_overdue(EVERYTHING)
    for q in (queue, f"{queue}-running", f"{queue}-sleeping"):
        result = await claim(store, ns, q)
        assert result.claimed == []
        assert result.next_due_in is None
    assert len(runs) == 3


async def test_sweep__worker_of_a_swept_run_learns_deadline_exceeded(
    backend: Backend, store: Store, ns: str, queue: str
) -> None:
    runs = await overdue_runs(backend, ns, queue)
    await store.run_fail_overdue(EVERYTHING)
    with pytest.raises(RunDeadlineExceeded):
        await store.run_heartbeat(RunHeartbeatParams(runs[RunStatus.RUNNING], LEASE))
