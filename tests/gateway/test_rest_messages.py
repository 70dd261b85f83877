"""Issue 18: every 400 names the field and the rule in the API's words, never Python's
("expected string or bytes-like object", "invalid literal for int()", "'utf-8' codec
can't encode"); JSON in another charset than UTF-8 is a 415 (RFC 8259)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gateway.conftest import RestApi
from tests.gateway.rest_helpers import JSON, expect_error, runs_url

INT32 = (
    "must be an integer from -2147483648 to 2147483647 (a JSON number, or a string of its "
    'canonical decimal digits, like "12")'
)
PYTHON_WORDS = ("literal", "codec", "bytes-like", "Failed to parse", "Couldn't", "at Start")

BODY_CASES: list[tuple[str, str, str]] = [
    ('{"workflowName": 5}', "workflowName", "must be a string"),
    (
        '{"workflowName": "a\\udfff"}',
        "workflowName",
        "text must be valid Unicode (it has an unpaired surrogate, like \\udfff)",
    ),
    (
        '{"workflowName": "a", "input": {"x": ["\\udfff"]}}',
        "input.x[0]",
        "text must be valid Unicode (it has an unpaired surrogate, like \\udfff)",
    ),
    (
        '{"workflowName": "a", "retryPolicy": {"maximumAttempts": "x"}}',
        "retryPolicy.maximumAttempts",
        INT32,
    ),
    (
        '{"workflowName": "a", "retryPolicy": {"maximumAttempts": 1.5}}',
        "retryPolicy.maximumAttempts",
        INT32,
    ),
    (
        '{"workflowName": "a", "retryPolicy": {"maximumAttempts": true}}',
        "retryPolicy.maximumAttempts",
        INT32,
    ),
    (
        '{"workflowName": "a", "deadlineAt": 5}',
        "deadlineAt",
        'must be an RFC 3339 time with its offset, like "2030-01-01T09:00:00Z"',
    ),
    (
        '{"workflowName": "a", "retry_policy": {"initialInterval": 5}}',
        "retry_policy.initialInterval",
        'must be a duration in seconds ending in "s", like "1.5s"',
    ),
    ('{"workflowName": "a", "context": [1]}', "context", "must be a JSON object"),
    (
        '{"workflowName": "a", "retryPolicy": {"backoffCoefficient": "fast"}}',
        "retryPolicy.backoffCoefficient",
        'must be a number (or "NaN", "Infinity", "-Infinity")',
    ),
]


@pytest.mark.parametrize(("body", "field", "rule"), BODY_CASES)
async def test_body__bad_value_is_400_naming_the_field_and_rule(
    rest_api: RestApi, ns: str, body: str, field: str, rule: str
) -> None:
    response = await rest_api.http.post(runs_url(ns), content=body.encode(), headers=JSON)
    answer = expect_error(response, 400, 3, "INVALID_ARGUMENT", field)
    assert answer["message"] == f"invalid request body: {field}: {rule}"
    assert not [word for word in PYTHON_WORDS if word in answer["message"]]


QUERY_CASES: list[tuple[dict[str, Any], str, str]] = [
    ({"pageSize": "abc"}, "pageSize", INT32),
    ({"page_size": "1.5"}, "page_size", INT32),
    ({"pageSize": "1e2"}, "pageSize", INT32),
    ({"pageSize": "007"}, "pageSize", INT32),
    (
        {"statuses": ["WORKFLOW_RUN_STATUS_PENDING", "FOO"]},
        "statuses",
        "each value must be one of WORKFLOW_RUN_STATUS_UNSPECIFIED,",
    ),
    (
        {"createdAfter": "yesterday"},
        "createdAfter",
        'must be an RFC 3339 time with its offset, like "2030-01-01T09:00:00Z"',
    ),
]


@pytest.mark.parametrize(("params", "field", "rule"), QUERY_CASES)
async def test_query__bad_value_is_400_naming_the_parameter_and_rule(
    rest_api: RestApi, ns: str, params: dict[str, Any], field: str, rule: str
) -> None:
    response = await rest_api.http.get(runs_url(ns), params=params)
    answer = expect_error(response, 400, 3, "INVALID_ARGUMENT", field)
    assert answer["message"].startswith(f"invalid query parameter {field}: {rule}")
    assert not [word for word in PYTHON_WORDS if word in answer["message"]]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=latin-1",
        "application/json;charset=UTF-16",
        'application/json; charset="iso-8859-1"',
    ],
)
async def test_charset__other_than_utf8_is_415_and_starts_nothing(
    rest_api: RestApi, ns: str, content_type: str
) -> None:
    response = await rest_api.http.post(
        runs_url(ns), content=b'{"workflowName": "a"}', headers={"content-type": content_type}
    )
    answer = expect_error(response, 415, 3, "UNSUPPORTED_MEDIA_TYPE")
    assert "JSON is UTF-8 (RFC 8259)" in answer["message"]
    listed = await rest_api.http.get(runs_url(ns))
    assert listed.json().get("workflowRuns", []) == []


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/json; charset=UTF8"]
)
async def test_charset__utf8_is_accepted(rest_api: RestApi, ns: str, content_type: str) -> None:
    response = await rest_api.http.post(
        runs_url(ns),
        content='{"workflowName": "café"}'.encode(),
        headers={"content-type": content_type},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
async def test_body__in_utf16_or_utf32_is_415(rest_api: RestApi, ns: str, encoding: str) -> None:
    body = '{"workflowName": "a"}'.encode(encoding)
    response = await rest_api.http.post(runs_url(ns), content=body, headers=JSON)
    answer = expect_error(response, 415, 3, "UNSUPPORTED_MEDIA_TYPE")
    assert answer["message"] == "the request body is UTF-16 or UTF-32: JSON is UTF-8 (RFC 8259)"


async def test_body__not_utf8_is_400_naming_the_byte(rest_api: RestApi, ns: str) -> None:
    body = '{"workflowName": "café"}'.encode("latin-1")
    response = await rest_api.http.post(runs_url(ns), content=body, headers=JSON)
    answer = expect_error(response, 400, 3, "INVALID_ARGUMENT")
    assert answer["message"] == "the request body is not valid UTF-8 (byte 21); JSON is UTF-8"


async def test_path__bad_value_names_the_rule(rest_api: RestApi) -> None:
    # No integer path parameter in the API: a namespace is a string, checked by the core.
    response = await rest_api.http.get(runs_url("default", "%FF"))
    expect_error(response, 400, 3, "INVALID_ARGUMENT")
