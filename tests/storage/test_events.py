"""Store events: each committed change that metrics count is reported once, by the call
that made it; calls that change nothing (an idempotent cancel, a memoized step, a
refused lease) report nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from storage import ExecutionAlreadyEnded, RunDeadlineExceeded, Store
from storage.events import StoreEvents
from storage.records import (
    RunCancelParams,
    RunCompleteParams,
    RunFailParams,
    RunStatus,
    StepCompleteParams,
    StepFailParams,
    StepStatus,
)
from tests.storage.fencing import begin_open_step
from tests.storage.helpers import (
    FAST_POLICY,
    HOUR,
    claim,
    claim_eventually,
    claim_one,
    create_run,
    expire_lease,
    failure,
    lease_of,
    start_run,
    utcnow,
)
from tests.storage.rawsql import Backend, set_deadline

Event = tuple[object, ...]


@dataclass
class Recorder(StoreEvents):
    """Keeps the events of one namespace (other tests share the database)."""

    ns: str
    events: list[Event] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    def run_ended(self, namespace_id: str, workflow_name: str, status: RunStatus) -> None:
        if namespace_id == self.ns:
            self.events.append(("run_ended", workflow_name, status))

    def run_claimed(self, namespace_id: str, task_queue: str, waited: float) -> None:
        if namespace_id == self.ns:
            self.events.append(("run_claimed", task_queue))
            self.waits.append(waited)

    def lease_expired(self, namespace_id: str, workflow_name: str) -> None:
        if namespace_id == self.ns:
            self.events.append(("lease_expired", workflow_name))

    def step_ended(self, namespace_id: str, status: StepStatus) -> None:
        if namespace_id == self.ns:
            self.events.append(("step_ended", status))

    def run_poisoned(self, namespace_id: str, workflow_name: str) -> None:
        if namespace_id == self.ns:
            self.events.append(("run_poisoned", workflow_name))

    def run_poison_paused(self, namespace_id: str, workflow_name: str) -> None:
        if namespace_id == self.ns:
            self.events.append(("run_poison_paused", workflow_name))

    def take(self) -> list[Event]:
        taken, self.events = self.events, []
        return taken


async def test_events__claim_reports_the_wait_since_the_run_became_due(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    await create_run(store, ns, queue, start_at=utcnow() - timedelta(seconds=30))
    await claim_one(store, ns, queue)
    assert recorder.take() == [("run_claimed", queue)]
    # By the database clock, at least the 30 s since start_at (and not hours more).
    assert 30 <= recorder.waits[0] < 3600


async def test_events__empty_claim_reports_nothing(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    assert (await claim(store, ns, queue)).claimed == []
    assert recorder.take() == []


async def test_events__reclaim_after_expiry_reports_the_lease_expired(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    lease = lease_of(await start_run(store, ns, queue, workflow_name="crashy"))
    await expire_lease(store, lease)
    recorder.take()
    await claim_one(store, ns, queue)
    assert recorder.take() == [("run_claimed", queue), ("lease_expired", "crashy")]


async def test_events__complete_reports_steps_and_the_run_once(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    lease = lease_of(await start_run(store, ns, queue, workflow_name="orders"))
    step = StepCompleteParams(lease, output='"x"', step_id="charge")
    await store.step_complete(step)
    await store.step_complete(step)  # memoized: the first completion stands
    await store.run_complete(RunCompleteParams(lease, output='"done"'))
    await store.run_complete(RunCompleteParams(lease, output='"done"'))  # a repeat
    with pytest.raises(ExecutionAlreadyEnded):
        await store.run_complete(RunCompleteParams(lease, output='"again"'))
    assert recorder.take() == [
        ("run_claimed", queue),
        ("step_ended", StepStatus.COMPLETED),
        ("run_ended", "orders", RunStatus.COMPLETED),
    ]


async def test_events__step_failure_that_retries_is_not_a_run_failure(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    lease = lease_of(
        await start_run(store, ns, queue, workflow_name="flaky", retry_policy=FAST_POLICY)
    )
    await store.step_fail(StepFailParams(lease, failure("Boom"), step_id="charge"))
    retried = lease_of(await claim_eventually(store, ns, queue))
    await store.run_fail(RunFailParams(retried, failure("Fatal", non_retryable=True)))
    assert recorder.take() == [
        ("run_claimed", queue),
        ("step_ended", StepStatus.FAILED),
        ("run_claimed", queue),
        ("run_ended", "flaky", RunStatus.FAILED),
    ]


async def test_events__cancel_reports_once(
    store: Store, ns: str, queue: str, recorder: Recorder
) -> None:
    run = await create_run(store, ns, queue, workflow_name="report")
    await store.run_cancel(RunCancelParams(ns, run.run_id))
    await store.run_cancel(RunCancelParams(ns, run.run_id))
    assert recorder.take() == [("run_ended", "report", RunStatus.CANCELED)]


async def test_events__deadline_failures_are_reported_where_they_happen(
    private_backend: Backend, ns: str, queue: str
) -> None:
    # A database of its own: the session's server processes sweep the shared one, and
    # would fail these overdue runs before this test's claim does.
    backend = private_backend
    store = backend.store
    recorder = Recorder(ns)
    store.events = recorder
    # At a worker call: the call that fails the run reports it; the next refusal does not.
    lease, _ = await begin_open_step(store, ns, queue)
    await set_deadline(backend, lease.run_id, utcnow() - timedelta(seconds=1))
    recorder.take()
    for _ in range(2):
        with pytest.raises(RunDeadlineExceeded):
            await store.run_complete(RunCompleteParams(lease, output=None))
    # At a claim: a due run past its deadline is failed instead of claimed.
    await create_run(store, ns, queue, workflow_name="late", deadline_at=utcnow() - HOUR)
    assert (await claim(store, ns, queue)).claimed == []
    assert recorder.take() == [
        ("run_ended", "wf", RunStatus.FAILED),
        ("run_ended", "late", RunStatus.FAILED),
    ]


async def test_events__sweep_reports_each_run_it_fails(
    private_backend: Backend, ns: str, queue: str
) -> None:
    store = private_backend.store
    recorder = Recorder(ns)
    store.events = recorder
    past = utcnow() - timedelta(seconds=1)
    for name in ("a", "a", "b"):
        # Not due (start_at in an hour), so only the sweep can fail them.
        await create_run(
            store, ns, queue, workflow_name=name, deadline_at=past, start_at=utcnow() + HOUR
        )
    assert await store.run_fail_overdue(1_000) == 3
    assert sorted(recorder.take(), key=str) == [
        ("run_ended", "a", RunStatus.FAILED),
        ("run_ended", "a", RunStatus.FAILED),
        ("run_ended", "b", RunStatus.FAILED),
    ]
    assert await store.run_fail_overdue(1_000) == 0
    assert recorder.take() == []
