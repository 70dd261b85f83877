"""Schedules on both backends: CRUD, and fires decided under the schedule's lock.

The servers other test packages start share the session's database and fire what is
due there, so schedules here are due tomorrow (a fire's check is against the
next_fire_at read, not the clock) unless the test has a database of its own."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from storage import Store
from storage.errors import ScheduleAlreadyExists, ScheduleNotFound
from storage.records import (
    FireKind,
    FireOutcome,
    Overlap,
    RunCancelParams,
    RunStatus,
    Schedule,
    ScheduleCreateParams,
    ScheduleDueParams,
    ScheduleFireParams,
    ScheduleListParams,
    ScheduleRef,
    ScheduleResumeParams,
)
from tests.storage.helpers import get_run, make_create_params, utcnow
from tests.storage.rawsql import Backend

MINUTE = timedelta(minutes=1)


def schedule_params(
    ns: str, queue: str, schedule_id: str = "s1", **fields: object
) -> ScheduleCreateParams:
    params = ScheduleCreateParams(
        namespace_id=ns,
        schedule_id=schedule_id,
        cron="* * * * *",
        interval=None,
        timezone="UTC",
        workflow_name="wf",
        version="v1",
        task_queue=queue,
        input='{"n":1}',
        priority=2,
        overlap=Overlap.SKIP,
        catchup_window=MINUTE,
        paused=False,
        next_fire_at=utcnow() + timedelta(days=1),
    )
    return replace(params, **fields)  # type: ignore[arg-type]


def fire_params(
    schedule: Schedule,
    queue: str,
    *,
    kind: FireKind = FireKind.SCHEDULED,
    start: bool = True,
    missed: int = 0,
) -> ScheduleFireParams:
    fire_at = schedule.next_fire_at if kind is not FireKind.BUFFERED else schedule.buffered_fire_at
    assert fire_at is not None
    run = make_create_params(
        schedule.namespace_id,
        queue,
        idempotency_key=f"schedule:{schedule.schedule_id}:{fire_at.isoformat()}:{kind}",
        priority=schedule.priority,
    )
    return ScheduleFireParams(
        ref=ScheduleRef(schedule.namespace_id, schedule.schedule_id),
        kind=kind,
        fire_at=fire_at,
        next_fire_at=fire_at + MINUTE if kind is FireKind.SCHEDULED else None,
        missed=missed,
        run=run if start else None,
    )


async def test_schedule__create_get_list_delete(store: Store, ns: str, queue: str) -> None:
    created = await store.schedule_create(schedule_params(ns, queue, "b"))
    await store.schedule_create(schedule_params(ns, queue, "a", cron=None, interval=MINUTE))
    assert await store.schedule_get(ScheduleRef(ns, "b")) == created
    assert (created.priority, created.overlap, created.paused) == (2, Overlap.SKIP, False)
    first = await store.schedule_list(ScheduleListParams(ns, limit=1, after=None))
    assert [s.schedule_id for s in first.items] == ["a"] and first.has_next
    assert first.items[0].interval == MINUTE and first.items[0].cron is None
    second = await store.schedule_list(ScheduleListParams(ns, limit=1, after="a"))
    assert [s.schedule_id for s in second.items] == ["b"] and not second.has_next
    await store.schedule_delete(ScheduleRef(ns, "b"))
    with pytest.raises(ScheduleNotFound):
        await store.schedule_get(ScheduleRef(ns, "b"))
    with pytest.raises(ScheduleNotFound):
        await store.schedule_delete(ScheduleRef(ns, "b"))


async def test_schedule__an_id_is_unique_in_its_namespace(
    store: Store, ns: str, queue: str
) -> None:
    first = await store.schedule_create(schedule_params(ns, queue))
    with pytest.raises(ScheduleAlreadyExists):
        await store.schedule_create(schedule_params(ns, queue, workflow_name="other"))
    assert await store.schedule_get(ScheduleRef(ns, "s1")) == first


async def test_schedule__pause_and_resume(store: Store, ns: str, queue: str) -> None:
    created = await store.schedule_create(schedule_params(ns, queue))
    paused = await store.schedule_pause(ScheduleRef(ns, "s1"))
    assert paused.paused
    later = utcnow() + timedelta(hours=1)
    resumed = await store.schedule_resume(ScheduleResumeParams(ScheduleRef(ns, "s1"), later))
    assert not resumed.paused and resumed.next_fire_at == later
    again = await store.schedule_resume(ScheduleResumeParams(ScheduleRef(ns, "s1"), utcnow()))
    assert again.next_fire_at == later  # an unpaused schedule is unchanged
    assert created.next_fire_at != later
    with pytest.raises(ScheduleNotFound):
        await store.schedule_pause(ScheduleRef(ns, "nope"))


async def test_schedule__due_lists_unpaused_schedules_whose_fire_came(
    private_backend: Backend, ns: str, queue: str
) -> None:
    store = private_backend.store
    past = utcnow() - timedelta(seconds=1)
    await store.schedule_create(schedule_params(ns, queue, "due", next_fire_at=past))
    await store.schedule_create(
        schedule_params(ns, queue, "paused", paused=True, next_fire_at=past)
    )
    await store.schedule_create(
        schedule_params(ns, queue, "later", next_fire_at=utcnow() + timedelta(hours=1))
    )
    due = await store.schedule_due(ScheduleDueParams(limit=1000))
    mine = [s.schedule_id for s in due.due if s.namespace_id == ns]
    assert mine == ["due"]
    assert abs(due.now - utcnow()) < timedelta(seconds=5)


async def test_fire__starts_one_run_and_advances_the_schedule(
    store: Store, ns: str, queue: str
) -> None:
    schedule = await store.schedule_create(schedule_params(ns, queue))
    params = fire_params(schedule, queue)
    result = await store.schedule_fire(params)
    assert result.outcome is FireOutcome.STARTED
    assert result.run is not None and result.schedule is not None
    assert result.run.priority == 2
    assert result.schedule.next_fire_at == schedule.next_fire_at + MINUTE
    assert result.schedule.last_fire_at == schedule.next_fire_at
    assert result.schedule.last_run_id == result.run.run_id
    # The same fire again (another server read the same next_fire_at): nothing.
    again = await store.schedule_fire(params)
    assert again.outcome is FireOutcome.LOST and again.run is None
    assert (await store.schedule_get(params.ref)) == result.schedule


async def test_fire__concurrent_tries_of_one_fire_start_one_run(
    store: Store, ns: str, queue: str
) -> None:
    schedule = await store.schedule_create(schedule_params(ns, queue))
    params = fire_params(schedule, queue)
    results = await asyncio.gather(*(store.schedule_fire(params) for _ in range(8)))
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == ["lost"] * 7 + ["started"]


async def test_fire__a_repeated_fire_key_answers_the_run_it_started(
    store: Store, ns: str, queue: str
) -> None:
    """A fire whose run exists already (its commit's answer was lost) starts no other."""
    schedule = await store.schedule_create(schedule_params(ns, queue, overlap=Overlap.ALLOW_ALL))
    params = fire_params(schedule, queue)
    existing = (await store.run_create(params.run)).run  # type: ignore[arg-type]
    result = await store.schedule_fire(params)
    assert result.run is not None and result.run.run_id == existing.run_id


async def test_fire__skip_starts_nothing_while_the_last_run_is_active(
    store: Store, ns: str, queue: str
) -> None:
    schedule = await store.schedule_create(schedule_params(ns, queue))
    first = await store.schedule_fire(fire_params(schedule, queue))
    assert first.schedule is not None
    second = await store.schedule_fire(fire_params(first.schedule, queue))
    assert second.outcome is FireOutcome.SKIPPED and second.run is None
    assert second.schedule is not None and second.schedule.skipped_fires == 1
    assert second.schedule.last_run_id == first.schedule.last_run_id
    # Once the run ended, the next fire starts one.
    assert first.run is not None
    await store.run_cancel(RunCancelParams(ns, first.run.run_id, ""))
    third = await store.schedule_fire(fire_params(second.schedule, queue))
    assert third.outcome is FireOutcome.STARTED


async def test_fire__allow_all_starts_a_run_each_fire(store: Store, ns: str, queue: str) -> None:
    schedule = await store.schedule_create(schedule_params(ns, queue, overlap=Overlap.ALLOW_ALL))
    first = await store.schedule_fire(fire_params(schedule, queue))
    assert first.schedule is not None
    second = await store.schedule_fire(fire_params(first.schedule, queue))
    assert second.outcome is FireOutcome.STARTED
    assert second.run is not None and first.run is not None
    assert second.run.run_id != first.run.run_id


async def test_fire__buffer_one_keeps_one_fire_until_the_run_ends(
    private_backend: Backend, ns: str, queue: str
) -> None:
    store = private_backend.store
    schedule = await store.schedule_create(schedule_params(ns, queue, overlap=Overlap.BUFFER_ONE))
    first = await store.schedule_fire(fire_params(schedule, queue))
    assert first.schedule is not None and first.run is not None
    kept = await store.schedule_fire(fire_params(first.schedule, queue))
    assert kept.outcome is FireOutcome.BUFFERED and kept.schedule is not None
    assert kept.schedule.buffered_fire_at == first.schedule.next_fire_at
    extra = await store.schedule_fire(fire_params(kept.schedule, queue))
    assert extra.outcome is FireOutcome.SKIPPED and extra.schedule is not None
    assert extra.schedule.buffered_fire_at == kept.schedule.buffered_fire_at
    # Not ready while the run is active; ready once it ended.
    assert ns not in {
        s.namespace_id for s in (await store.schedule_due(ScheduleDueParams(1000))).buffered
    }
    await store.run_cancel(RunCancelParams(ns, first.run.run_id, ""))
    ready = [
        s
        for s in (await store.schedule_due(ScheduleDueParams(1000))).buffered
        if s.namespace_id == ns
    ]
    assert [s.schedule_id for s in ready] == ["s1"]
    started = await store.schedule_fire(fire_params(ready[0], queue, kind=FireKind.BUFFERED))
    assert started.outcome is FireOutcome.STARTED and started.schedule is not None
    assert started.schedule.buffered_fire_at is None
    assert started.run is not None and started.schedule.last_run_id == started.run.run_id
    assert started.schedule.next_fire_at == extra.schedule.next_fire_at


async def test_fire__a_missed_fire_is_counted_and_starts_nothing(
    store: Store, ns: str, queue: str
) -> None:
    schedule = await store.schedule_create(schedule_params(ns, queue))
    result = await store.schedule_fire(fire_params(schedule, queue, start=False, missed=4))
    assert result.outcome is FireOutcome.MISSED and result.run is None
    assert result.schedule is not None and result.schedule.missed_fires == 5
    assert result.schedule.last_fire_at is None
    assert result.schedule.next_fire_at == schedule.next_fire_at + MINUTE


async def test_fire__a_paused_schedule_does_not_fire(store: Store, ns: str, queue: str) -> None:
    schedule = await store.schedule_create(schedule_params(ns, queue))
    await store.schedule_pause(ScheduleRef(ns, "s1"))
    result = await store.schedule_fire(fire_params(schedule, queue))
    assert result.outcome is FireOutcome.LOST


async def test_trigger__starts_a_run_even_when_paused_and_active(
    store: Store, ns: str, queue: str
) -> None:
    schedule = await store.schedule_create(schedule_params(ns, queue, paused=True))
    first = await store.schedule_fire(fire_params(schedule, queue, kind=FireKind.TRIGGER))
    second = await store.schedule_fire(
        replace(
            fire_params(schedule, queue, kind=FireKind.TRIGGER),
            run=make_create_params(ns, queue, idempotency_key="other-trigger"),
        )
    )
    assert first.outcome is second.outcome is FireOutcome.STARTED
    assert second.schedule is not None and second.run is not None
    assert second.schedule.last_run_id == second.run.run_id
    assert second.schedule.next_fire_at == schedule.next_fire_at
    run = await get_run(store, ns, second.run.run_id)
    assert run.status is RunStatus.PENDING


async def test_trigger__a_missing_schedule_is_not_found(store: Store, ns: str, queue: str) -> None:
    schedule = await store.schedule_create(schedule_params(ns, queue))
    await store.schedule_delete(ScheduleRef(ns, "s1"))
    with pytest.raises(ScheduleNotFound):
        await store.schedule_fire(fire_params(schedule, queue, kind=FireKind.TRIGGER))
