"""Firing schedules, from the maintenance loop of every server.

Each server asks the database a few times a second which schedules are due (an index
read), and sleeps until the next fire when that is sooner, so a fire starts its run
within about `tick` of its time. Every server may try the same fire: the store decides
it under the schedule's row lock against the next_fire_at the server read, so the first
does it and the others find it changed (LOST); the run's idempotency key (schedule and
fire time) makes even a fire repeated after a crash start one run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from services.metrics import Metrics
from services.schedule_service import fire_run, timing_of
from services.schedule_times import plan_fire
from storage import Store, StoreError
from storage.records import (
    FireKind,
    FireOutcome,
    Schedule,
    ScheduleDueParams,
    ScheduleFireParams,
    ScheduleFireResult,
    ScheduleRef,
)

log = logging.getLogger(__name__)

BATCH = 100


class Scheduler:
    def __init__(self, store: Store, metrics: Metrics, tick: timedelta) -> None:
        self._store = store
        self._metrics = metrics
        self._tick = tick.total_seconds()

    async def fire_due(self) -> float:
        """Fire what is due now; return how long to sleep before asking again."""
        due = await self._store.schedule_due(ScheduleDueParams(limit=BATCH))
        fired = [await self._guarded(self._fire_scheduled(s, due.now), s) for s in due.due]
        fired += [await self._guarded(self._fire_buffered(s), s) for s in due.buffered]
        if any(fired):
            return 0.0  # a catch-up may have left the next fire due already
        if due.next_due_in is None or due.due or due.buffered:
            return self._tick  # nothing moved: ask again at the next tick, not at once
        return min(self._tick, max(due.next_due_in.total_seconds(), 0.0))

    async def _guarded(self, fire: Awaitable[bool], schedule: Schedule) -> bool:
        """Whether the fire moved the schedule on. A schedule that cannot be fired (its
        zone gone from the system's tz database, say) is logged and left alone, so the
        others keep firing; StoreError (the database) ends the pass."""
        try:
            return await fire
        except StoreError:
            raise
        except Exception:
            log.exception(
                "schedule %s of %s not fired", schedule.schedule_id, schedule.namespace_id
            )
            return False

    async def run_forever(self, storage_ok: Callable[[], bool]) -> None:
        """Fire until canceled. While `storage_ok()` says the database does not answer
        (the maintenance loop pings it), wait instead of adding calls that would each
        wait out the pool's timeout; the fires due meanwhile are caught up after."""
        while True:
            wait = self._tick
            if storage_ok():
                try:
                    wait = await self.fire_due()
                except StoreError as exc:
                    log.warning("schedules not fired: %s", exc)
            await asyncio.sleep(wait)

    async def _fire_scheduled(self, schedule: Schedule, now: datetime) -> bool:
        plan = plan_fire(timing_of(schedule), schedule.next_fire_at, schedule.catchup_window, now)
        result = await self._store.schedule_fire(
            ScheduleFireParams(
                ref=ScheduleRef(schedule.namespace_id, schedule.schedule_id),
                kind=FireKind.SCHEDULED,
                fire_at=plan.fire_at,
                next_fire_at=plan.next_fire_at,
                missed=plan.missed,
                run=fire_run(schedule, FireKind.SCHEDULED, plan.fire_at) if plan.start else None,
            )
        )
        if result.outcome is FireOutcome.MISSED:
            self._metrics.schedule_fired(schedule.namespace_id, "missed", plan.missed + 1)
            log.warning(
                "schedule %s: %d fires older than its catch-up window skipped",
                schedule.schedule_id,
                plan.missed + 1,
            )
        else:
            self._count(schedule, result, plan.fire_at, FireOutcome.STARTED.value)
        return result.outcome is not FireOutcome.LOST

    async def _fire_buffered(self, schedule: Schedule) -> bool:
        fire_at = schedule.buffered_fire_at
        assert fire_at is not None  # schedule_due lists only schedules holding one
        result = await self._store.schedule_fire(
            ScheduleFireParams(
                ref=ScheduleRef(schedule.namespace_id, schedule.schedule_id),
                kind=FireKind.BUFFERED,
                fire_at=fire_at,
                next_fire_at=None,
                missed=0,
                run=fire_run(schedule, FireKind.BUFFERED, fire_at),
            )
        )
        self._count(schedule, result, fire_at, "buffered_started")
        return result.outcome is not FireOutcome.LOST

    def _count(
        self, schedule: Schedule, result: ScheduleFireResult, fire_at: datetime, started: str
    ) -> None:
        if result.outcome is FireOutcome.LOST:
            return  # another server's fire, or the schedule changed: counted there
        if result.run is None:
            self._metrics.schedule_fired(schedule.namespace_id, result.outcome.value)
            return
        self._metrics.schedule_fired(schedule.namespace_id, started)
        self._metrics.run_started(schedule.namespace_id, schedule.workflow_name)
        self._metrics.schedule_lag(
            schedule.namespace_id, (result.run.created_at - fire_at).total_seconds()
        )
