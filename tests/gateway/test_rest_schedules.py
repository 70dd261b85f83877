"""The schedule routes over REST (flat create body, DELETE, custom verbs) through
uvicorn and a real server, on both backends."""

from __future__ import annotations

from tests.gateway.conftest import RestApi
from tests.gateway.rest_helpers import expect_error


def url(ns: str, rest: str = "") -> str:
    return f"/v1/namespaces/{ns}/schedules{rest}"


async def test_schedules__every_route(rest_api: RestApi, ns: str) -> None:
    http = rest_api.http
    created = await http.post(
        url(ns),
        json={
            "scheduleId": "nightly",
            "cron": "0 3 * * *",
            "timezone": "America/New_York",
            "workflowName": "report",
            "input": {"full": True},
            "overlap": "SCHEDULE_OVERLAP_ALLOW_ALL",
            "catchupWindow": "300s",
            "priority": 2,
        },
    )
    assert created.status_code == 200, created.text
    schedule = created.json()["schedule"]
    assert schedule["timezone"] == "America/New_York" and schedule["catchupWindow"] == "300s"
    assert (await http.get(url(ns, "/nightly"))).json()["schedule"] == schedule
    listed = (await http.get(url(ns), params={"pageSize": 10})).json()
    assert [s["scheduleId"] for s in listed["schedules"]] == ["nightly"]
    paused = (await http.post(url(ns, "/nightly:pause"), json={})).json()["schedule"]
    assert paused["paused"] is True
    triggered = (await http.post(url(ns, "/nightly:trigger"), json={})).json()
    run = (await http.get(f"/v1/namespaces/{ns}/runs/{triggered['runId']}")).json()["run"]
    assert run["workflowName"] == "report" and run["priority"] == 2
    resumed = (await http.post(url(ns, "/nightly:resume"), json={})).json()["schedule"]
    assert "paused" not in resumed
    deleted = await http.delete(url(ns, "/nightly"))
    assert deleted.status_code == 200 and deleted.json() == {}
    expect_error(await http.get(url(ns, "/nightly")), 404, 5, "SCHEDULE_NOT_FOUND")


async def test_schedules__bad_create_is_400_and_a_taken_id_409(rest_api: RestApi, ns: str) -> None:
    body = {"scheduleId": "s", "workflowName": "w", "interval": "60s"}
    assert (await rest_api.http.post(url(ns), json=body)).status_code == 200
    expect_error(await rest_api.http.post(url(ns), json=body), 409, 6, "SCHEDULE_ALREADY_EXISTS")
    bad = {**body, "scheduleId": "t", "cron": "0 3 * * *"}
    expect_error(await rest_api.http.post(url(ns), json=bad), 400, 3, "INVALID_ARGUMENT", "cron")
