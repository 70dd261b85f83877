"""What a definition registers beside its code, through a real gRPC server: its poison
policy (shown by GetWorkflow) and its schedule (kept as "workflow:<name>"); bad values
are INVALID_ARGUMENT naming the field and change nothing."""

from __future__ import annotations

from typing import Any

import grpc

from stepline.v1 import registry_pb2 as rg
from stepline.v1 import schedule_pb2 as sc
from tests.services.conftest import Api
from tests.services.helpers import expect_error
from tests.services.test_registry_service import definition, register

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def get_workflow(api: Api, ns: str, name: str = "wf") -> Any:
    request = rg.GetWorkflowRequest(namespace_id=ns, workflow_name=name)
    return (await api.workflow.GetWorkflow(request)).workflow


async def get_schedule(api: Api, ns: str, schedule_id: str = "workflow:wf") -> Any:
    request = sc.GetScheduleRequest(namespace_id=ns, schedule_id=schedule_id)
    return (await api.workflow.GetSchedule(request)).schedule


async def test_register__refuses_a_bad_policy_or_schedule(api: Api, ns: str) -> None:
    bad = [
        (definition(max_crashes=-1), "workflows[0].max_crashes"),
        (definition(on_poison=7), "workflows[0].on_poison"),
        (definition(schedule_cron="every hour"), "workflows[0].schedule_cron"),
        (definition(schedule_cron="61 * * * *"), "workflows[0].schedule_cron"),
        (
            definition(schedule_cron="0 * * * *", schedule_timezone="Mars/Olympus"),
            "workflows[0].schedule_timezone",
        ),
        (definition(schedule_timezone="UTC"), "workflows[0].schedule_timezone"),
    ]
    for wrong, field in bad:
        await expect_error(register(api, ns, "w", wrong), INVALID, "INVALID_ARGUMENT", field)
    listed = await api.workflow.ListWorkers(rg.ListWorkersRequest(namespace_id=ns))
    assert list(listed.workers) == []
    schedules = await api.workflow.ListSchedules(sc.ListSchedulesRequest(namespace_id=ns))
    assert list(schedules.schedules) == []


async def test_get_workflow__shows_the_poison_policy(api: Api, ns: str) -> None:
    await register(api, ns, "w1", definition(version="1"))
    workflow = await get_workflow(api, ns)
    assert not workflow.HasField("max_crashes")  # the server's --max-crashes
    assert workflow.on_poison == rg.POISON_ACTION_FAIL
    await register(api, ns, "w2", definition(version="2", max_crashes=0, on_poison=2))
    workflow = await get_workflow(api, ns)
    assert workflow.HasField("max_crashes") and workflow.max_crashes == 0
    assert workflow.on_poison == rg.POISON_ACTION_PAUSE
    policies = {v.version: (v.HasField("max_crashes"), v.on_poison) for v in workflow.versions}
    assert policies == {"2": (True, rg.POISON_ACTION_PAUSE), "1": (False, rg.POISON_ACTION_FAIL)}


async def test_register__keeps_the_definitions_schedule(api: Api, ns: str) -> None:
    hourly = definition(schedule_cron=" 0 * * * * ", schedule_timezone="Europe/Berlin")
    request = rg.RegisterWorkerRequest(
        namespace_id=ns, worker_id="w1", task_queue="reports", workflows=[hourly]
    )
    await api.worker.RegisterWorker(request)
    created = await get_schedule(api, ns)
    assert (created.cron, created.timezone, created.task_queue) == (
        "0 * * * *",
        "Europe/Berlin",
        "reports",
    )
    assert created.workflow_name == "wf" and created.version == ""
    assert created.overlap == sc.SCHEDULE_OVERLAP_SKIP and not created.paused
    await api.worker.RegisterWorker(request)
    assert await get_schedule(api, ns) == created  # the same definition changes nothing
    del request.workflows[:]
    request.workflows.append(definition(schedule_cron="*/5 * * * *"))
    await api.worker.RegisterWorker(request)
    updated = await get_schedule(api, ns)
    assert (updated.cron, updated.timezone) == ("*/5 * * * *", "UTC")
    assert updated.next_fire_at.ToDatetime().minute % 5 == 0
