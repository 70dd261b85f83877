"""Calls and assertions for REST tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.gateway.conftest import RestApi

JSON = {"content-type": "application/json"}


def runs_url(ns: str, *rest: str) -> str:
    return "/".join((f"/v1/namespaces/{ns}/runs", *rest)).replace("runs/:", "runs:")


async def start_run(rest: RestApi, ns: str, name: str = "wf", **fields: Any) -> dict[str, Any]:
    response = await rest.http.post(runs_url(ns), json={"workflowName": name, **fields})
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()["run"]
    return run


def expect_error(
    response: httpx.Response, status: int, code: int, reason: str, field: str | None = None
) -> dict[str, Any]:
    """The response is the JSON error body with this status, gRPC code and ErrorInfo reason."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    assert "Traceback" not in response.text
    infos = [d for d in body["details"] if d["@type"].endswith("/google.rpc.ErrorInfo")]
    assert len(infos) == 1, body
    assert infos[0]["domain"] == "stepline"
    assert infos[0]["reason"] == reason, body
    if field is not None:
        assert infos[0]["metadata"]["field"] == field, body
    return body
