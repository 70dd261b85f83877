"""The path template grammar of google/api/http.proto: parsing, matching, bindings."""

from __future__ import annotations

import pytest

from gateway.http_rule import PathTemplate, TemplateError, bindings_for
from gateway.services import REST_SERVICES
from tests.gateway import protos

# template, path, expected field values (None: no match)
MATCHES = [
    # http.proto: get: "/v1/{name=messages/*}"
    ("/v1/{name=messages/*}", "/v1/messages/123456", {"name": "messages/123456"}),
    ("/v1/{name=messages/*}", "/v1/messages/123456/x", None),
    ("/v1/{name=messages/*}", "/v1/users/123456", None),
    # http.proto: get: "/v1/messages/{message_id}"
    ("/v1/messages/{message_id}", "/v1/messages/123456", {"message_id": "123456"}),
    ("/v1/messages/{message_id}", "/v1/messages/", None),
    ("/v1/messages/{message_id}", "/v1/messages", None),
    # http.proto additional binding: "/v1/users/{user_id}/messages/{message_id}"
    (
        "/v1/users/{user_id}/messages/{message_id}",
        "/v1/users/me/messages/123456",
        {"user_id": "me", "message_id": "123456"},
    ),
    # http.proto service config: "/v1/messages/{message_id}/{sub.subfield}"
    (
        "/v1/messages/{message_id}/{sub.subfield}",
        "/v1/messages/123456/foo",
        {"message_id": "123456", "sub.subfield": "foo"},
    ),
    # `**` matches zero or more segments, and keeps an encoded "/" encoded.
    ("/v1/files/{name=**}", "/v1/files/a/b/c.txt", {"name": "a/b/c.txt"}),
    ("/v1/files/{name=**}", "/v1/files/a%2Fb/c", {"name": "a%2Fb/c"}),
    ("/v1/files/{name=**}", "/v1/files", {"name": ""}),
    ("/v1/{name=shelves/*/books/**}", "/v1/shelves/1/books/x/y", {"name": "shelves/1/books/x/y"}),
    ("/v1/**", "/v1/anything/at/all", {}),
    ("/v1/*/runs", "/v1/x/runs", {}),
    # A single-segment variable decodes everything, "/" included.
    ("/v1/messages/{message_id}", "/v1/messages/a%2Fb%20c", {"message_id": "a/b c"}),
    # Custom verbs.
    ("/v1/messages/{message_id}:archive", "/v1/messages/7:archive", {"message_id": "7"}),
    ("/v1/messages/{message_id}:archive", "/v1/messages/7", None),
    ("/v1/messages/{message_id}:archive", "/v1/messages/7:other", None),
    ("/v1/messages:batchGet", "/v1/messages:batchGet", {}),
    ("/v1/{name=messages/*}:undelete", "/v1/messages/9:undelete", {"name": "messages/9"}),
    # Literals compare after percent-decoding.
    ("/v1/messages/latest", "/v1/%6Dessages/latest", {}),
    ("/v1/messages/latest", "/v1/messages/latest/", None),
    # Our own routes.
    (
        "/v1/namespaces/{namespace_id}/runs/{run_id}:cancel",
        "/v1/namespaces/default/runs/01:cancel",
        {"namespace_id": "default", "run_id": "01"},
    ),
]


@pytest.mark.parametrize(("raw", "path", "expected"), MATCHES)
def test_template_match__table(raw: str, path: str, expected: dict[str, str] | None) -> None:
    assert PathTemplate(raw).match(path) == expected


PARSED = [
    # raw, variables, verb, openapi path
    ("/v1/{name=messages/*}", ("name",), None, "/v1/{name}"),
    ("/v1/messages/{message_id}/{sub.subfield}", ("message_id", "sub.subfield"), None, None),
    ("/v1/files/{name=**}", ("name",), None, "/v1/files/{name}"),
    ("/v1/messages/{message_id}:archive", ("message_id",), "archive", None),
    ("/v1/messages:batchGet", (), "batchGet", None),
    ("/v1/{parent=shelves/*}/books/{book}", ("parent", "book"), None, "/v1/{parent}/books/{book}"),
]


@pytest.mark.parametrize(("raw", "variables", "verb", "openapi"), PARSED)
def test_template_parse__variables_verb_and_openapi_path(
    raw: str, variables: tuple[str, ...], verb: str | None, openapi: str | None
) -> None:
    template = PathTemplate(raw)
    assert template.variables == variables
    assert template.verb == verb
    assert template.openapi_path() == (openapi or raw)


@pytest.mark.parametrize(
    "raw",
    [
        "v1/messages",  # no leading "/"
        "/v1/{name",  # unbalanced
        "/v1/{a={b}}",  # nested variable
        "/v1/**/x",  # `**` not last
        "/v1/{1abc}",  # not an identifier
        "/v1/{a}/{a}",  # bound twice
        "/v1/messages:",  # empty verb
        "/v1//x",  # empty segment
        "/v1/{name=}",  # empty variable template
    ],
)
def test_template_parse__rejects_bad_templates(raw: str) -> None:
    with pytest.raises(TemplateError):
        PathTemplate(raw)


def test_specificity__verb_then_literals_then_no_double_wildcard() -> None:
    def key(raw: str) -> tuple[int, int, int, int]:
        return PathTemplate(raw).specificity()

    assert key("/v1/runs/{id}:cancel") > key("/v1/runs/{id}")
    assert key("/v1/runs/latest") > key("/v1/runs/{id}")
    assert key("/v1/runs/{id}") > key("/v1/runs/{id=**}")


def test_bindings_for__primary_and_additional_bindings_in_proto_order() -> None:
    found = [
        (b.http_method, b.template.raw, b.body, b.method.name)
        for b in bindings_for(protos.service("Messaging"))
    ]
    assert found == [
        ("GET", "/v1/{name=messages/*}", "", "GetMessageByName"),
        ("GET", "/v1/messages/{message_id}", "", "GetMessage"),
        ("GET", "/v1/users/{user_id}/messages/{message_id}", "", "GetMessage"),
        ("GET", "/v1/messages/{message_id}/{sub.subfield}", "", "GetMessageSub"),
        ("PATCH", "/v1/messages/{message_id}", "message", "UpdateMessage"),
        ("PUT", "/v1/messages/{message_id}", "*", "UpdateMessageStar"),
        ("GET", "/v1/files/{name=**}", "", "GetFile"),
        ("POST", "/v1/messages/{message_id}:archive", "*", "ArchiveMessage"),
        ("GET", "/v1/messages/latest", "", "GetLatest"),
        ("SEARCH", "/v1/messages", "", "GetLatest"),
    ]


def test_bindings_for__response_body_is_read() -> None:
    (echo, wait) = bindings_for(protos.service("Testing"))
    assert (echo.response_body, wait.response_body) == ("", "text")


def test_bindings_for__workflow_service_exposes_every_rpc() -> None:
    service, _ = REST_SERVICES
    routes = {(b.http_method, b.template.openapi_path()) for b in bindings_for(service)}
    assert routes == {
        ("POST", "/v1/namespaces/{namespace_id}/runs"),
        ("GET", "/v1/namespaces/{namespace_id}/runs/{run_id}"),
        ("GET", "/v1/namespaces/{namespace_id}/runs"),
        ("POST", "/v1/namespaces/{namespace_id}/runs/{run_id}:cancel"),
        ("GET", "/v1/namespaces/{namespace_id}/runs/{run_id}/steps"),
        ("GET", "/v1/namespaces/{namespace_id}/runs/{run_id}/steps/{step_attempt_id}"),
        ("POST", "/v1/namespaces/{namespace_id}/runs/{run_id}:replay"),
        ("POST", "/v1/namespaces/{namespace_id}/runs:batchCancel"),
        ("POST", "/v1/namespaces/{namespace_id}/runs:batchReplay"),
        ("POST", "/v1/namespaces/{namespace_id}/runs/{run_id}:signal"),
        ("POST", "/v1/namespaces/{namespace_id}/events"),
        ("GET", "/v1/namespaces/{namespace_id}/events/{event_id}"),
        ("GET", "/v1/namespaces/{namespace_id}/events"),
        ("GET", "/v1/namespaces/{namespace_id}/events/{event_id}/runs"),
        ("GET", "/v1/namespaces/{namespace_id}/workflows"),
        ("GET", "/v1/namespaces/{namespace_id}/workflows/{workflow_name}"),
        ("POST", "/v1/namespaces/{namespace_id}/workflows/{workflow_name}:pause"),
        ("POST", "/v1/namespaces/{namespace_id}/workflows/{workflow_name}:resume"),
        ("GET", "/v1/namespaces/{namespace_id}/workers"),
        ("POST", "/v1/namespaces/{namespace_id}/schedules"),
        ("GET", "/v1/namespaces/{namespace_id}/schedules/{schedule_id}"),
        ("GET", "/v1/namespaces/{namespace_id}/schedules"),
        ("DELETE", "/v1/namespaces/{namespace_id}/schedules/{schedule_id}"),
        ("POST", "/v1/namespaces/{namespace_id}/schedules/{schedule_id}:pause"),
        ("POST", "/v1/namespaces/{namespace_id}/schedules/{schedule_id}:resume"),
        ("POST", "/v1/namespaces/{namespace_id}/schedules/{schedule_id}:trigger"),
    }
    assert {b.method.name for b in bindings_for(service)} == {m.name for m in service.methods}


def test_bindings_for__admin_service_exposes_every_rpc() -> None:
    _, service = REST_SERVICES
    routes = {(b.http_method, b.template.openapi_path()) for b in bindings_for(service)}
    assert routes == {
        ("POST", "/v1/namespaces"),
        ("GET", "/v1/namespaces"),
        ("GET", "/v1/namespaces/{namespace_id}"),
        ("PATCH", "/v1/namespaces/{namespace_id}"),
        ("POST", "/v1/namespaces/{namespace_id}/apiKeys"),
        ("GET", "/v1/namespaces/{namespace_id}/apiKeys"),
        ("POST", "/v1/namespaces/{namespace_id}/apiKeys/{key_id}:revoke"),
    }
    assert {b.method.name for b in bindings_for(service)} == {m.name for m in service.methods}
