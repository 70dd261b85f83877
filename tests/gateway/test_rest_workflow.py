"""Every WorkflowService RPC over REST, through uvicorn and a real server (SQLite and
PostgreSQL), with the errors each can produce."""

from __future__ import annotations

from stepline.v1 import worker_service_pb2 as wk
from tests.gateway.conftest import RestApi
from tests.gateway.rest_helpers import JSON, expect_error, runs_url, start_run
from tests.services.helpers import claim, value

MISSING_RUN = "01234567-89ab-7def-8123-456789abcdef"


async def test_start__returns_the_run_as_proto3_json(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.post(
        runs_url(ns),
        json={
            "workflowName": "greet",
            "task_queue": "q1",  # proto names are accepted too
            "input": {"name": "Ada", "n": [1, 2.5, None]},
            "deadlineAt": "2030-01-02T00:00:00Z",
            "retryPolicy": {"initialInterval": "5s", "maximumAttempts": 3},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    run = body["run"]
    assert run["workflowName"] == "greet" and run["taskQueue"] == "q1"
    assert run["namespaceId"] == ns
    assert run["input"] == {"name": "Ada", "n": [1, 2.5, None]}
    assert run["status"] == "WORKFLOW_RUN_STATUS_PENDING"
    assert run["deadlineAt"] == "2030-01-02T00:00:00Z"
    assert run["retryPolicy"]["initialInterval"] == "5s"
    # false is a default value: omitted, as protojson does by default (grpc-gateway v2's
    # default marshaler would print it: it sets EmitUnpopulated).
    assert "existing" not in body


async def test_start__same_idempotency_key_twice_returns_the_same_run(
    rest_api: RestApi, ns: str
) -> None:
    payload = {"workflowName": "charge", "idempotencyKey": "order-42"}
    first = (await rest_api.http.post(runs_url(ns), json=payload)).json()
    second = (await rest_api.http.post(runs_url(ns), json=payload)).json()
    assert second["run"]["runId"] == first["run"]["runId"]
    assert second["existing"] is True


async def test_start__idempotency_key_of_another_workflow_is_409(
    rest_api: RestApi, ns: str
) -> None:
    await start_run(rest_api, ns, "charge", idempotencyKey="k")
    response = await rest_api.http.post(
        runs_url(ns), json={"workflowName": "refund", "idempotencyKey": "k"}
    )
    expect_error(response, 409, 6, "IDEMPOTENCY_CONFLICT")


async def test_start__traceparent_header_lands_in_run_context(rest_api: RestApi, ns: str) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = await rest_api.http.post(
        runs_url(ns),
        json={"workflowName": "wf", "context": {"tenant": "t1"}},
        headers={"traceparent": traceparent, "tracestate": "vendor=1"},
    )
    context = response.json()["run"]["context"]
    assert context == {
        "tenant": "t1",
        "trace": {"traceparent": traceparent, "tracestate": "vendor=1"},
    }


async def test_start__server_side_validation_is_400_naming_the_field(
    rest_api: RestApi, ns: str
) -> None:
    response = await rest_api.http.post(runs_url(ns), json={"workflowName": "has space"})
    body = expect_error(response, 400, 3, "INVALID_ARGUMENT", "workflow_name")
    assert any(d["@type"].endswith("BadRequest") for d in body["details"])


async def test_start__bad_namespace_in_path_is_400(rest_api: RestApi) -> None:
    response = await rest_api.http.post(runs_url("bad%20ns"), json={"workflowName": "wf"})
    expect_error(response, 400, 3, "INVALID_ARGUMENT", "namespace_id")


async def test_start__malformed_json_is_400(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.post(runs_url(ns), content=b'{"workflowName": ', headers=JSON)
    body = expect_error(response, 400, 3, "INVALID_ARGUMENT")
    assert "not valid JSON" in body["message"]


async def test_start__unknown_field_is_400_naming_it(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.post(runs_url(ns), json={"workflowName": "wf", "colour": 1})
    body = expect_error(response, 400, 3, "INVALID_ARGUMENT")
    assert 'unknown field "colour"' in body["message"]
    assert body["details"][0]["metadata"] == {"field": "colour"}


async def test_start__wrong_type_is_400_naming_the_field(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.post(runs_url(ns), json={"workflowName": ["wf"]})
    body = expect_error(response, 400, 3, "INVALID_ARGUMENT")
    assert "workflowName" in body["message"]
    response = await rest_api.http.post(
        runs_url(ns), json={"workflowName": "wf", "deadlineAt": "tomorrow"}
    )
    assert "deadlineAt" in expect_error(response, 400, 3, "INVALID_ARGUMENT")["message"]


async def test_start__non_json_content_type_is_415(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.post(
        runs_url(ns), content=b"workflowName=wf", headers={"content-type": "text/plain"}
    )
    expect_error(response, 415, 3, "UNSUPPORTED_MEDIA_TYPE")


async def test_get__returns_the_run(rest_api: RestApi, ns: str) -> None:
    run = await start_run(rest_api, ns)
    response = await rest_api.http.get(runs_url(ns, run["runId"]))
    assert response.status_code == 200
    assert response.json()["run"] == run


async def test_get__unknown_run_is_404(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.get(runs_url(ns, MISSING_RUN))
    body = expect_error(response, 404, 5, "RUN_NOT_FOUND")
    assert body["details"][0]["metadata"]["run_id"] == MISSING_RUN


async def test_get__malformed_run_id_is_400(rest_api: RestApi, ns: str) -> None:
    expect_error(
        await rest_api.http.get(runs_url(ns, "nope")), 400, 3, "INVALID_ARGUMENT", "run_id"
    )


async def test_get__body_on_a_bodyless_route_is_400(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.request(
        "GET", runs_url(ns, MISSING_RUN), content=b'{"runId": "x"}', headers=JSON
    )
    body = expect_error(response, 400, 3, "INVALID_ARGUMENT")
    assert "no request body" in body["message"]


async def test_list__pages_forward_and_back_with_a_status_filter(
    rest_api: RestApi, ns: str
) -> None:
    started = [(await start_run(rest_api, ns, f"wf{i}"))["runId"] for i in range(3)]
    canceled = await rest_api.http.post(runs_url(ns, f"{started[1]}:cancel"), json={})
    assert canceled.status_code == 200
    first = (await rest_api.http.get(runs_url(ns), params={"pageSize": 2})).json()
    assert [r["runId"] for r in first["workflowRuns"]] == started[:2]
    assert first["hasMore"] is True and "prevPageToken" not in first
    second = (
        await rest_api.http.get(
            runs_url(ns), params={"page_size": 2, "page_token": first["nextPageToken"]}
        )
    ).json()
    assert [r["runId"] for r in second["workflowRuns"]] == started[2:]
    back = (
        await rest_api.http.get(
            runs_url(ns), params={"pageSize": 2, "pageToken": second["prevPageToken"]}
        )
    ).json()
    assert [r["runId"] for r in back["workflowRuns"]] == started[:2]
    pending = await rest_api.http.get(
        runs_url(ns), params=[("statuses", "WORKFLOW_RUN_STATUS_PENDING"), ("statuses", "6")]
    )
    assert [r["runId"] for r in pending.json()["workflowRuns"]] == started
    only_canceled = await rest_api.http.get(
        runs_url(ns), params={"statuses": "WORKFLOW_RUN_STATUS_CANCELED", "workflowName": "wf1"}
    )
    assert [r["runId"] for r in only_canceled.json()["workflowRuns"]] == [started[1]]


async def test_list__empty_namespace_is_an_empty_page(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.get(runs_url(ns))
    assert response.status_code == 200
    assert response.json() == {}


async def test_list__tampered_page_token_is_400(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.get(runs_url(ns), params={"pageToken": "bm90IGEgdG9rZW4"})
    expect_error(response, 400, 3, "INVALID_PAGE_TOKEN")


async def test_list__bad_query_values_are_400(rest_api: RestApi, ns: str) -> None:
    for params in ({"pageSize": "many"}, {"statuses": "DONE"}, {"createdAfter": "today"}):
        response = await rest_api.http.get(runs_url(ns), params=params)
        body = expect_error(response, 400, 3, "INVALID_ARGUMENT")
        assert next(iter(params)) in body["message"]
    out_of_range = await rest_api.http.get(runs_url(ns), params={"pageSize": 5000})
    expect_error(out_of_range, 400, 3, "INVALID_ARGUMENT", "page_size")


async def test_cancel__pending_run_is_canceled_with_the_reason(rest_api: RestApi, ns: str) -> None:
    run = await start_run(rest_api, ns)
    response = await rest_api.http.post(
        runs_url(ns, f"{run['runId']}:cancel"), json={"reason": "not needed"}
    )
    assert response.status_code == 200, response.text
    canceled = response.json()["run"]
    assert canceled["status"] == "WORKFLOW_RUN_STATUS_CANCELED"
    assert canceled["error"]["message"] == "not needed"


async def test_cancel__completed_run_is_400_run_already_terminal(
    rest_api: RestApi, ns: str
) -> None:
    task = await claim(rest_api.api, ns)
    await rest_api.api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest(lease=task.lease))
    response = await rest_api.http.post(runs_url(ns, f"{task.run.run_id}:cancel"), json={})
    expect_error(response, 400, 9, "RUN_ALREADY_TERMINAL")


async def test_cancel__unknown_run_is_404(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.post(runs_url(ns, f"{MISSING_RUN}:cancel"))
    expect_error(response, 404, 5, "RUN_NOT_FOUND")


async def test_steps__list_and_get(rest_api: RestApi, ns: str) -> None:
    task = await claim(rest_api.api, ns)
    for step in ("one", "two"):
        await rest_api.api.worker.CompleteStep(
            wk.CompleteStepRequest(lease=task.lease, step_id=step, output=value({"step": step}))
        )
    run_id = task.run.run_id
    page = (await rest_api.http.get(runs_url(ns, run_id, "steps"), params={"pageSize": 1})).json()
    (first,) = page["stepAttempts"]
    assert first["stepId"] == "one" and first["output"] == {"step": "one"}
    assert page["hasMore"] is True
    rest = await rest_api.http.get(
        runs_url(ns, run_id, "steps"), params={"pageToken": page["nextPageToken"]}
    )
    assert [s["stepId"] for s in rest.json()["stepAttempts"]] == ["two"]
    one = await rest_api.http.get(runs_url(ns, run_id, "steps", first["stepAttemptId"]))
    assert one.json()["stepAttempt"] == first


async def test_steps__unknown_attempt_is_404(rest_api: RestApi, ns: str) -> None:
    run = await start_run(rest_api, ns)
    response = await rest_api.http.get(runs_url(ns, run["runId"], "steps", MISSING_RUN))
    expect_error(response, 404, 5, "STEP_ATTEMPT_NOT_FOUND")


async def test_steps__of_unknown_run_is_404(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.get(runs_url(ns, MISSING_RUN, "steps"))
    expect_error(response, 404, 5, "RUN_NOT_FOUND")


async def test_unknown_route_is_404_and_wrong_method_405(rest_api: RestApi, ns: str) -> None:
    expect_error(await rest_api.http.get("/v1/nowhere"), 404, 5, "ROUTE_NOT_FOUND")
    response = await rest_api.http.delete(runs_url(ns))
    expect_error(response, 405, 12, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, POST"


async def test_bad_grpc_timeout_header_is_400(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.get(runs_url(ns), headers={"Grpc-Timeout": "soon"})
    expect_error(response, 400, 3, "INVALID_ARGUMENT", "Grpc-Timeout")
