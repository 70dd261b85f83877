"""The schedule RPCs through a real server (both backends), and fires of the server's
own maintenance loop."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import grpc

from services import convert
from stepline.v1 import schedule_pb2 as sc
from stepline.v1 import workflow_service_pb2 as wf
from tests.services.conftest import Api
from tests.services.helpers import expect_error, get_run, seconds, until, value

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def create(api: Api, ns: str, schedule_id: str = "nightly", **fields: Any) -> sc.Schedule:
    request = sc.CreateScheduleRequest(
        namespace_id=ns, schedule_id=schedule_id, **{"workflow_name": "report", **fields}
    )
    if "cron" not in fields and "interval" not in fields:
        request.cron = "0 3 * * *"
    response: sc.CreateScheduleResponse = await api.workflow.CreateSchedule(request)
    return response.schedule


async def runs_of(api: Api, ns: str) -> list[Any]:
    response = await api.workflow.ListWorkflowRuns(
        wf.ListWorkflowRunsRequest(namespace_id=ns, page_size=1000)
    )
    return list(response.workflow_runs)


async def test_create__fills_defaults_and_the_next_fire(api: Api, ns: str) -> None:
    schedule = await create(api, ns, timezone="Europe/Berlin", input=value({"x": 1}))
    assert schedule.schedule_id == "nightly" and schedule.namespace_id == ns
    assert schedule.overlap == sc.SCHEDULE_OVERLAP_SKIP
    assert schedule.task_queue == "default" and schedule.priority == 3
    assert schedule.catchup_window.ToSeconds() == 60
    next_fire = convert.to_datetime(schedule.next_fire_at)
    assert next_fire.astimezone(ZoneInfo("Europe/Berlin")).hour == 3
    got = await api.workflow.GetSchedule(
        sc.GetScheduleRequest(namespace_id=ns, schedule_id="nightly")
    )
    assert got.schedule == schedule


async def test_create__an_id_taken_is_already_exists(api: Api, ns: str) -> None:
    await create(api, ns)
    await expect_error(create(api, ns), grpc.StatusCode.ALREADY_EXISTS, "SCHEDULE_ALREADY_EXISTS")


async def test_create__bad_fields_are_invalid_and_create_nothing(api: Api, ns: str) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "* * *"}, "cron"),
        ({"cron": "0 3 * * *", "interval": seconds(60)}, "cron"),
        ({"cron": "", "interval": seconds(0.5)}, "interval"),
        ({"cron": "0 3 * * *", "timezone": "Mars/Olympus"}, "timezone"),
        ({"cron": "0 3 * * *", "priority": 9}, "priority"),
        ({"cron": "0 3 * * *", "overlap": 42}, "overlap"),
        ({"cron": "0 3 * * *", "workflow_name": ""}, "workflow_name"),
        ({"cron": "0 3 * * *", "catchup_window": seconds(-1)}, "catchup_window"),
    ]
    for fields, field in cases:
        await expect_error(create(api, ns, **fields), INVALID, "INVALID_ARGUMENT", field=field)
    await expect_error(create(api, ns, "has space"), INVALID, "INVALID_ARGUMENT", "schedule_id")
    listed = await api.workflow.ListSchedules(sc.ListSchedulesRequest(namespace_id=ns))
    assert list(listed.schedules) == []


async def test_list__pages_in_id_order(api: Api, ns: str) -> None:
    for schedule_id in ("c", "a", "b"):
        await create(api, ns, schedule_id)
    first = await api.workflow.ListSchedules(sc.ListSchedulesRequest(namespace_id=ns, page_size=2))
    assert [s.schedule_id for s in first.schedules] == ["a", "b"] and first.has_more
    rest = await api.workflow.ListSchedules(
        sc.ListSchedulesRequest(namespace_id=ns, page_size=2, page_token=first.next_page_token)
    )
    assert [s.schedule_id for s in rest.schedules] == ["c"] and not rest.has_more
    await expect_error(
        api.workflow.ListSchedules(sc.ListSchedulesRequest(namespace_id=ns, page_token="x")),
        INVALID,
        "INVALID_PAGE_TOKEN",
    )


async def test_missing_schedule__is_not_found_for_every_call(api: Api, ns: str) -> None:
    ref = {"namespace_id": ns, "schedule_id": "ghost"}
    calls = [
        api.workflow.GetSchedule(sc.GetScheduleRequest(**ref)),
        api.workflow.DeleteSchedule(sc.DeleteScheduleRequest(**ref)),
        api.workflow.PauseSchedule(sc.PauseScheduleRequest(**ref)),
        api.workflow.ResumeSchedule(sc.ResumeScheduleRequest(**ref)),
        api.workflow.TriggerSchedule(sc.TriggerScheduleRequest(**ref)),
    ]
    for call in calls:
        await expect_error(call, grpc.StatusCode.NOT_FOUND, "SCHEDULE_NOT_FOUND")


async def test_pause_resume_trigger_delete(api: Api, ns: str) -> None:
    await create(api, ns, task_queue="reports", priority=1, input=value([1, 2]))
    ref = {"namespace_id": ns, "schedule_id": "nightly"}
    paused = (await api.workflow.PauseSchedule(sc.PauseScheduleRequest(**ref))).schedule
    assert paused.paused
    triggered = await api.workflow.TriggerSchedule(sc.TriggerScheduleRequest(**ref))
    assert triggered.schedule.last_run_id == triggered.run_id
    run = await get_run(api, ns, triggered.run_id)
    assert (run.workflow_name, run.task_queue, run.priority) == ("report", "reports", 1)
    assert convert.value_to_python(run.input) == [1, 2]
    assert run.context["schedule"]["schedule_id"] == "nightly"
    resumed = (await api.workflow.ResumeSchedule(sc.ResumeScheduleRequest(**ref))).schedule
    assert not resumed.paused
    await api.workflow.DeleteSchedule(sc.DeleteScheduleRequest(**ref))
    await expect_error(
        api.workflow.GetSchedule(sc.GetScheduleRequest(**ref)),
        grpc.StatusCode.NOT_FOUND,
        "SCHEDULE_NOT_FOUND",
    )
    assert (await get_run(api, ns, triggered.run_id)).run_id == triggered.run_id  # runs stay


async def test_fire__a_per_second_cron_starts_runs_within_a_second_of_their_time(
    api: Api, ns: str
) -> None:
    await create(api, ns, cron="* * * * * *", overlap=sc.SCHEDULE_OVERLAP_ALLOW_ALL)
    runs = await until(lambda: runs_of(api, ns), lambda runs: len(runs) >= 3)
    fire_times = set()
    for run in runs:
        fire_at = datetime.fromisoformat(run.context["schedule"]["fire_at"])
        lag = convert.to_datetime(run.created_at) - fire_at
        assert 0 <= lag.total_seconds() < 1.0, (fire_at, lag)
        fire_times.add(fire_at)
    assert len(fire_times) == len(runs)  # one run per fire


async def test_fire__skip_starts_no_run_while_the_last_is_active(api: Api, ns: str) -> None:
    schedule = await create(api, ns, cron="* * * * * *")
    request = sc.GetScheduleRequest(namespace_id=ns, schedule_id=schedule.schedule_id)
    await until(
        lambda: api.workflow.GetSchedule(request), lambda got: got.schedule.skipped_fires >= 2
    )
    assert len(await runs_of(api, ns)) == 1  # nobody works the queue: the run stays active
