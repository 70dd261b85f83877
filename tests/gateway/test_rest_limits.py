"""Limits over REST, through a real server: retry intervals, nesting depth, body size and
forwarded metadata each end in a 4xx naming the problem, never a 429 or a 500."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from gateway.metadata import MAX_METADATA_BYTES
from services.rest import rest_server
from services.server import max_request_bytes
from tests.gateway.conftest import RestApi
from tests.gateway.rest_helpers import JSON, expect_error, runs_url, start_run

TEN_YEARS = 315_576_000  # seconds: the documented cap of both retry intervals
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


# --- retry intervals -------------------------------------------------------------------


async def test_retry_interval_of_ten_years_is_accepted_and_its_default_maximum_capped(
    rest_api: RestApi, ns: str
) -> None:
    run = await start_run(rest_api, ns, retryPolicy={"initialInterval": f"{TEN_YEARS}s"})
    # initial x 100 would leave Duration's range: the default maximum stops at the cap.
    assert run["retryPolicy"]["maximumInterval"] == f"{TEN_YEARS}s"
    listed = await rest_api.http.get(runs_url(ns))
    assert listed.status_code == 200, listed.text
    assert [r["runId"] for r in listed.json()["workflowRuns"]] == [run["runId"]]


async def test_retry_interval_over_ten_years_is_400_naming_it_and_stores_nothing(
    rest_api: RestApi, ns: str
) -> None:
    cases = [
        ({"initialInterval": f"{TEN_YEARS + 1}s"}, "retry_policy.initial_interval"),
        ({"initialInterval": "3200000000s"}, "retry_policy.initial_interval"),  # was a 500
        ({"initialInterval": "93000000000s"}, "retry_policy.initial_interval"),  # was a 500
        ({"maximumInterval": f"{TEN_YEARS + 1}s"}, "retry_policy.maximum_interval"),
    ]
    for policy, field in cases:
        response = await rest_api.http.post(
            runs_url(ns), json={"workflowName": "wf", "retryPolicy": policy}
        )
        expect_error(response, 400, 3, "INVALID_ARGUMENT", field)
    listed = await rest_api.http.get(runs_url(ns))
    assert listed.status_code == 200 and listed.json().get("workflowRuns", []) == []


# --- nesting ---------------------------------------------------------------------------


async def test_deeply_nested_body_is_400_not_500(rest_api_sqlite: RestApi, ns: str) -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        response = await rest_api_sqlite.http.post(runs_url(ns), content=body, headers=JSON)
        body_json = expect_error(response, 400, 3, "INVALID_ARGUMENT")
        assert "nested too deeply" in body_json["message"]


async def test_deeply_nested_input_value_is_400_not_500(rest_api_sqlite: RestApi, ns: str) -> None:
    nested = "[" * 500 + "]" * 500  # parses as JSON; too deep for a protobuf Value
    content = f'{{"workflowName":"wf","input":{nested}}}'.encode()
    response = await rest_api_sqlite.http.post(runs_url(ns), content=content, headers=JSON)
    expect_error(response, 400, 3, "INVALID_ARGUMENT")


# --- body size -------------------------------------------------------------------------


@pytest_asyncio.fixture
async def in_process_gateway(rest_api_sqlite: RestApi) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway as `stepline-server serve` builds it, in front of the same core."""
    config = dataclasses.replace(rest_api_sqlite.api.server.config, http_address="127.0.0.1:0")
    server = rest_server(config, rest_api_sqlite.grpc_address)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://{server.address}", timeout=30) as http:
            yield http
    finally:
        await server.stop()


def _start_body(size: int) -> bytes:
    return b'{"workflowName":"wf","input":"' + b"x" * size + b'"}'


async def test_in_process_gateway_body_limit_is_the_cores_receive_limit(
    in_process_gateway: httpx.AsyncClient, rest_api_sqlite: RestApi, ns: str
) -> None:
    limit = max_request_bytes(rest_api_sqlite.api.server.config)
    # Over the core's limit but under the old 16 MiB body limit: was a 429 from gRPC.
    content = _start_body(limit + 1024)
    response = await in_process_gateway.post(runs_url(ns), content=content, headers=JSON)
    body = expect_error(response, 413, 3, "PAYLOAD_TOO_LARGE")
    assert body["details"][0]["metadata"] == {"limit": str(limit)}


async def test_core_refusing_an_oversized_message_is_413_not_429(
    rest_api_sqlite: RestApi, ns: str
) -> None:
    # This gateway's own body limit is 16 MiB: the core's receive limit answers first.
    limit = max_request_bytes(rest_api_sqlite.api.server.config)
    content = _start_body(limit + 1024)
    response = await rest_api_sqlite.http.post(runs_url(ns), content=content, headers=JSON)
    body = expect_error(response, 413, 8, "PAYLOAD_TOO_LARGE")
    assert "larger than max" in body["message"]


# --- forwarded metadata ----------------------------------------------------------------


def _padding(total: int, key: str = "grpc-metadata-pad") -> dict[str, str]:
    """One custom header whose forwarded entry takes `total` bytes (name + value + 32)."""
    name = key.removeprefix("grpc-metadata-")
    return {key: "p" * (total - len(name) - 32)}


async def test_forwarded_metadata_at_the_limit_passes(rest_api_sqlite: RestApi, ns: str) -> None:
    headers = _padding(MAX_METADATA_BYTES)
    for _ in range(20):  # over gRPC's soft limit this would fail some of the time
        response = await rest_api_sqlite.http.get(runs_url(ns), headers=headers)
        assert response.status_code == 200, response.text


async def test_forwarded_metadata_over_the_limit_is_431_naming_the_headers(
    rest_api_sqlite: RestApi, ns: str
) -> None:
    headers = {
        **_padding(MAX_METADATA_BYTES - 100),
        "grpc-metadata-tenant": "acme" * 20,
        "x-request-id": "r1",
    }
    response = await rest_api_sqlite.http.get(runs_url(ns), headers=headers)
    body = expect_error(response, 431, 8, "METADATA_TOO_LARGE")
    metadata = body["details"][0]["metadata"]
    assert metadata["headers"] == "grpc-metadata-pad, grpc-metadata-tenant, x-request-id"
    assert metadata["limit_bytes"] == str(MAX_METADATA_BYTES)


async def test_grpc_metadata_cannot_stand_in_for_a_forwarded_header(
    rest_api_sqlite: RestApi, ns: str
) -> None:
    response = await rest_api_sqlite.http.post(
        runs_url(ns),
        json={"workflowName": "wf"},
        headers={"grpc-metadata-traceparent": TRACEPARENT, "grpc-metadata-host": "evil"},
    )
    assert response.status_code == 200, response.text
    assert "trace" not in response.json()["run"].get("context", {})
    # The header itself still works.
    response = await rest_api_sqlite.http.post(
        runs_url(ns), json={"workflowName": "wf"}, headers={"traceparent": TRACEPARENT}
    )
    assert response.json()["run"]["context"]["trace"]["traceparent"] == TRACEPARENT
