"""The server's maintenance loop fires schedules: fires missed while no server ran are
caught up within the catch-up window and skipped (and counted) beyond it; metrics count
fires by outcome and their lag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stepline.v1 import schedule_pb2 as sc
from storage.records import Overlap, ScheduleCreateParams
from tests.services.conftest import Api
from tests.services.helpers import until


def _sample(api: Api, name: str, **labels: str) -> float:
    value = api.server.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


async def test_catch_up__fires_beyond_the_window_are_skipped_and_counted(api: Api, ns: str) -> None:
    # As if every server had been down for ten minutes: the schedule's next fire is
    # nine fires and a bit overdue.
    now = datetime.now(UTC)
    await api.server.store.schedule_create(
        ScheduleCreateParams(
            namespace_id=ns,
            schedule_id="every-minute",
            cron=None,
            interval=timedelta(minutes=1),
            timezone="UTC",
            workflow_name="catch-up",
            version="",
            task_queue="nobody",
            input=None,
            priority=3,
            overlap=Overlap.SKIP,
            catchup_window=timedelta(minutes=1),
            paused=False,
            next_fire_at=now - timedelta(minutes=10) + timedelta(seconds=5),
        )
    )
    request = sc.GetScheduleRequest(namespace_id=ns, schedule_id="every-minute")
    got = await until(
        lambda: api.workflow.GetSchedule(request), lambda got: bool(got.schedule.last_run_id)
    )
    schedule = got.schedule
    # -9:55 ... -1:55 are older than the window; -0:55 is within it and starts a run.
    assert schedule.missed_fires == 9
    assert schedule.skipped_fires == 0
    assert schedule.next_fire_at.ToDatetime(UTC) > now
    assert _sample(api, "stepline_schedule_fires_total", namespace=ns, outcome="missed") == 9
    assert _sample(api, "stepline_schedule_fires_total", namespace=ns, outcome="started") == 1
    # The caught-up fire was 55 s late: its lag says so.
    lag = _sample(api, "stepline_schedule_fire_lag_seconds_sum", namespace=ns)
    assert 55 <= lag < 65
