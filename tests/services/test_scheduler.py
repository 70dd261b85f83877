"""The server's maintenance loop fires schedules: fires missed while no server ran are
caught up within the catch-up window and skipped (and counted) beyond it; metrics count
fires by outcome and their lag."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from stepline.v1 import schedule_pb2 as sc
from storage.records import Overlap, ScheduleCreateParams
from tests.conftest import sqlite_url_for
from tests.services.conftest import BACKENDS, Api, start_api, stop_api
from tests.services.helpers import until
from tests.support import postgres


@pytest_asyncio.fixture(params=BACKENDS)
async def lone_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    """A server alone on a database of its own: no other test server fires its schedules,
    so its metrics count every fire."""
    if request.param == "postgres":
        admin_url: str = request.getfixturevalue("postgres_admin_url")
        url = postgres.create_database(admin_url)
    else:
        url = sqlite_url_for(tmp_path_factory.mktemp("scheduler") / "stepline.db")
    api = await start_api(url, db_pool_size=3)
    try:
        yield api
    finally:
        await stop_api(api)
        if request.param == "postgres":
            postgres.drop_database(admin_url, url)


def _sample(api: Api, name: str, **labels: str) -> float:
    value = api.server.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


async def test_catch_up__fires_beyond_the_window_are_skipped_and_counted(
    lone_api: Api, ns: str
) -> None:
    api = lone_api
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


async def test_a_schedule_that_cannot_fire_does_not_stop_the_others(lone_api: Api, ns: str) -> None:
    """A zone the server's tz database lacks (written directly, past the API's check) is
    logged and skipped; the schedule due after it fires on time."""
    api = lone_api
    now = datetime.now(UTC)
    broken = ScheduleCreateParams(
        namespace_id=ns,
        schedule_id="a-broken",
        cron="* * * * *",
        interval=None,
        timezone="Nowhere/Atlantis",
        workflow_name="w",
        version="",
        task_queue="nobody",
        input=None,
        priority=3,
        overlap=Overlap.ALLOW_ALL,
        catchup_window=timedelta(minutes=1),
        paused=False,
        next_fire_at=now - timedelta(seconds=2),
    )
    await api.server.store.schedule_create(broken)
    fine = replace(
        broken, schedule_id="b-fine", timezone="UTC", next_fire_at=now - timedelta(seconds=1)
    )
    await api.server.store.schedule_create(fine)
    request = sc.GetScheduleRequest(namespace_id=ns, schedule_id="b-fine")
    await until(
        lambda: api.workflow.GetSchedule(request), lambda got: bool(got.schedule.last_run_id)
    )
