"""A definition's schedule (@workflow(schedule=...)) kept by registrations, in the
registration's transaction: created when missing, left alone when the same, updated with
a new next fire when its timing or queue changed, its paused state and history kept
(both backends). Fires are due tomorrow: other packages' servers fire what is due in the
shared database."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from storage import Store
from storage.records import ScheduleCreateParams, ScheduleRef
from storage.registry import WorkerRegisterParams, WorkflowDefinition
from tests.storage.helpers import utcnow
from tests.storage.test_schedules import schedule_params

WINDOW = timedelta(minutes=1)
ID = "workflow:wf"


async def register(store: Store, ns: str, queue: str, schedule: ScheduleCreateParams) -> None:
    await store.worker_register(
        WorkerRegisterParams(
            ns, "w1", queue, (WorkflowDefinition("wf", "v1"),), WINDOW, schedules=(schedule,)
        )
    )


def kept(ns: str, queue: str, **fields: object) -> ScheduleCreateParams:
    return schedule_params(ns, queue, ID, version="", input=None, priority=3, **fields)


async def test_registry_schedule__created_then_left_alone_when_the_same(
    store: Store, ns: str, queue: str
) -> None:
    await register(store, ns, queue, kept(ns, queue, cron="0 * * * *"))
    created = await store.schedule_get(ScheduleRef(ns, ID))
    assert (created.cron, created.workflow_name, created.task_queue) == ("0 * * * *", "wf", queue)
    again = kept(ns, queue, cron="0 * * * *", next_fire_at=utcnow() + timedelta(days=2))
    await register(store, ns, queue, again)
    same = await store.schedule_get(ScheduleRef(ns, ID))
    assert same == created


async def test_registry_schedule__updated_when_the_expression_changes_keeping_its_state(
    store: Store, ns: str, queue: str
) -> None:
    await register(store, ns, queue, kept(ns, queue, cron="0 * * * *"))
    await store.schedule_pause(ScheduleRef(ns, ID))
    later = utcnow() + timedelta(days=3)
    changed = kept(ns, queue, cron="30 * * * *", timezone="Europe/Berlin", next_fire_at=later)
    await register(store, ns, queue, changed)
    schedule = await store.schedule_get(ScheduleRef(ns, ID))
    assert (schedule.cron, schedule.timezone) == ("30 * * * *", "Europe/Berlin")
    assert schedule.next_fire_at == later
    assert schedule.paused  # an operator's pause outlives a deploy


async def test_registry_schedule__a_registration_without_one_keeps_it(
    store: Store, ns: str, queue: str
) -> None:
    await register(store, ns, queue, kept(ns, queue, cron="0 * * * *"))
    await store.worker_register(
        WorkerRegisterParams(ns, "w2", queue, (WorkflowDefinition("wf", "v1"),), WINDOW)
    )
    assert (await store.schedule_get(ScheduleRef(ns, ID))).cron == "0 * * * *"


async def test_registry_schedule__the_queue_follows_the_registration(
    store: Store, ns: str, queue: str
) -> None:
    await register(store, ns, queue, kept(ns, queue, cron="0 * * * *"))
    moved = replace(kept(ns, queue, cron="0 * * * *"), task_queue=queue + "-2")
    await register(store, ns, queue, moved)
    assert (await store.schedule_get(ScheduleRef(ns, ID))).task_queue == queue + "-2"
