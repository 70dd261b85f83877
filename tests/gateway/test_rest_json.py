"""JSON in and out over REST, through a real server: integral numbers print as integers,
input JSON is strict, and bad query parameters and path escapes are 400s naming them."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import RestApi
from tests.gateway.rest_helpers import JSON, expect_error, runs_url, start_run

# --- numbers out -----------------------------------------------------------------------


async def test_integral_numbers_render_as_integers(rest_api: RestApi, ns: str) -> None:
    response = await rest_api.http.post(
        runs_url(ns),
        json={
            "workflowName": "wf",
            "input": {"amount": 42, "big": 2**53, "half": 0.5, "huge": 1e300},
            "retryPolicy": {"backoffCoefficient": 2},
        },
    )
    assert response.status_code == 200, response.text
    text = response.text
    assert '"input":{"amount":42,"big":9007199254740992,"half":0.5,"huge":1e+300}' in text
    assert '"backoffCoefficient":2,' in text or '"backoffCoefficient":2}' in text
    got = await rest_api.http.get(runs_url(ns, response.json()["run"]["runId"]))
    assert '"amount":42,' in got.text


# --- strict JSON in --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "field", "words"),
    [
        (b'{"workflowName":"wf","input":NaN}', None, "NaN"),
        (b'{"workflowName":"wf","input":[-Infinity]}', None, "-Infinity"),
        (b'{"workflowName":"a","workflowName":"b"}', "workflowName", "more than once"),
        (b'{"workflowName":"wf","input":{"k":1,"k":2}}', "k", "more than once"),
        (b'{"workflow_name":"a","workflowName":"b"}', "workflow_name", "twice"),
        (
            b'{"workflowName":"wf","retryPolicy":{"initial_interval":"1s","initialInterval":"2s"}}',
            "retry_policy.initial_interval",
            "twice",
        ),
    ],
)
async def test_ambiguous_or_non_standard_json_is_400(
    rest_api_sqlite: RestApi, ns: str, content: bytes, field: str | None, words: str
) -> None:
    response = await rest_api_sqlite.http.post(runs_url(ns), content=content, headers=JSON)
    body = expect_error(response, 400, 3, "INVALID_ARGUMENT", field)
    assert words in body["message"]


async def test_quoted_nan_in_a_value_is_a_plain_string(rest_api_sqlite: RestApi, ns: str) -> None:
    # "NaN" quoted is a string in a Value: a legal input, kept as the string.
    run = await start_run(rest_api_sqlite, ns, input={"x": "NaN"})
    assert run["input"] == {"x": "NaN"}


# --- query parameters and path escapes -------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page_size": "abc"}, "page_size"),
        ({"pageSize": "1.5"}, "pageSize"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"statuses": "NOT_A_STATUS"}, "statuses"),
    ],
)
async def test_bad_query_parameter_is_400_naming_it_as_sent(
    rest_api_sqlite: RestApi, ns: str, query: dict[str, str], field: str
) -> None:
    response = await rest_api_sqlite.http.get(runs_url(ns), params=query)
    expect_error(response, 400, 3, "INVALID_ARGUMENT", field)


@pytest.mark.parametrize("segment", ["%ZZ", "ab%2", "%FF", "%C3%28", "ok%E2%82"])
async def test_malformed_percent_escape_in_the_path_is_400(
    rest_api_sqlite: RestApi, segment: str
) -> None:
    response = await rest_api_sqlite.http.get(f"/v1/namespaces/{segment}/runs")
    body = expect_error(response, 400, 3, "INVALID_ARGUMENT")
    assert "malformed path" in body["message"]


async def test_well_formed_escapes_in_the_path_still_decode(
    rest_api_sqlite: RestApi, ns: str
) -> None:
    escaped = "".join(f"%{ord(c):02X}" for c in ns)
    response = await rest_api_sqlite.http.get(f"/v1/namespaces/{escaped}/runs")
    assert response.status_code == 200, response.text
