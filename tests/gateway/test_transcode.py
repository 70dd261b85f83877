"""HTTP request -> request message for each example of google/api/http.proto, and the
JSON body rules (body "*", body "field", no body, bad JSON, unknown field, wrong type)."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format

from gateway.errors import GatewayError
from gateway.http_rule import HttpBinding, PathTemplate, bindings_for
from gateway.router import Router
from gateway.transcode import RequestBuilder, ResponseWriter
from tests.gateway import protos


class _Route:
    def __init__(self, binding: HttpBinding) -> None:
        self.binding = binding
        self.builder = RequestBuilder(binding)


def _router(*methods: str) -> Router[_Route]:
    bindings = bindings_for(protos.service("Messaging"))
    return Router([_Route(b) for b in bindings if b.method.name in methods])


def transcode(
    http_method: str,
    path: str,
    body: bytes = b"",
    *,
    methods: tuple[str, ...] = ("GetMessage", "GetMessageSub", "UpdateMessage"),
    content_type: str | None = "application/json",
) -> tuple[str, dict[str, Any]]:
    """The gRPC method a request calls, and its request as proto-name JSON."""
    path, _, query = path.partition("?")
    found = _router(*methods).find(http_method, path)
    request = found.route.builder.build(found.path_values, query.encode(), body, content_type)
    text = json_format.MessageToDict(request, preserving_proto_field_name=True)
    return found.route.binding.method.name, text


# Each row: one example of http.proto (or a case the examples imply), and what gRPC gets.
EXAMPLES = [
    # get: "/v1/{name=messages/*}"
    (
        ("GET", "/v1/messages/123456", b"", ("GetMessageByName",)),
        ("GetMessageByName", {"name": "messages/123456"}),
    ),
    # get: "/v1/messages/{message_id}" with revision and sub.subfield in the query
    (
        ("GET", "/v1/messages/123456?revision=2&sub.subfield=foo", b"", ("GetMessage",)),
        ("GetMessage", {"message_id": "123456", "revision": "2", "sub": {"subfield": "foo"}}),
    ),
    # patch: "/v1/messages/{message_id}" body: "message"
    (
        ("PATCH", "/v1/messages/123456", b'{"text": "Hi!"}', ("UpdateMessage",)),
        ("UpdateMessage", {"message_id": "123456", "message": {"text": "Hi!"}}),
    ),
    # body: "*" on UpdateMessage(Message)
    (
        ("PUT", "/v1/messages/123456", b'{"text": "Hi!"}', ("UpdateMessageStar",)),
        ("UpdateMessageStar", {"message_id": "123456", "text": "Hi!"}),
    ),
    # additional_bindings: both paths reach GetMessage
    (
        ("GET", "/v1/messages/123456", b"", ("GetMessage",)),
        ("GetMessage", {"message_id": "123456"}),
    ),
    (
        ("GET", "/v1/users/me/messages/123456", b"", ("GetMessage",)),
        ("GetMessage", {"user_id": "me", "message_id": "123456"}),
    ),
    # service config: get: /v1/messages/{message_id}/{sub.subfield}
    (
        ("GET", "/v1/messages/123456/foo", b"", ("GetMessage", "GetMessageSub")),
        ("GetMessageSub", {"message_id": "123456", "sub": {"subfield": "foo"}}),
    ),
    # {name=**}
    (
        ("GET", "/v1/files/docs/a%2Fb/readme.md", b"", ("GetFile",)),
        ("GetFile", {"name": "docs/a%2Fb/readme.md"}),
    ),
    # a custom verb, body "*"
    (
        ("POST", "/v1/messages/9:archive", b'{"reason": "old"}', ("ArchiveMessage", "GetMessage")),
        ("ArchiveMessage", {"message_id": "9", "reason": "old"}),
    ),
    # a custom HTTP method (custom: {kind: "SEARCH"})
    (
        ("SEARCH", "/v1/messages?revision=4", b"", ("GetLatest",)),
        ("GetLatest", {"revision": "4"}),
    ),
]


@pytest.mark.parametrize(("request_parts", "expected"), EXAMPLES)
def test_http_proto_examples__transcode_to_the_documented_grpc_request(
    request_parts: tuple[str, str, bytes, tuple[str, ...]], expected: tuple[str, dict[str, Any]]
) -> None:
    http_method, path, body, methods = request_parts
    assert transcode(http_method, path, body, methods=methods) == expected


def test_body_star__path_value_wins_over_the_same_field_in_the_body() -> None:
    _, request = transcode(
        "PUT", "/v1/messages/1", b'{"messageId": "2", "text": "t"}', methods=("UpdateMessageStar",)
    )
    assert request == {"message_id": "1", "text": "t"}


def test_body_star__query_parameters_are_not_read() -> None:
    _, request = transcode("PUT", "/v1/messages/1?text=q", b"{}", methods=("UpdateMessageStar",))
    assert request == {"message_id": "1"}


def test_body_field__other_fields_come_from_the_query() -> None:
    _, request = transcode("PATCH", "/v1/messages/1?text=ignored", b'{"text": "body"}')
    assert request == {"message_id": "1", "message": {"text": "body"}}


@pytest.mark.parametrize("body", [b'{"message_id": "1"}', b'{"messageId": "1"}'])
def test_body__proto_and_json_names_are_both_accepted(body: bytes) -> None:
    _, request = transcode("PATCH", "/v1/messages/9", body)
    assert request == {"message_id": "9", "message": {"message_id": "1"}}


def _error(*args: Any, **kwargs: Any) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        transcode(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"text": ', "not valid JSON"),
        (b'{"nope": 1}', '"nope"'),
        (b'{"text": 5}', "text"),
        (b"[1, 2]", "JSON object"),
    ],
)
def test_body__bad_json_is_invalid_argument_naming_the_problem(body: bytes, words: str) -> None:
    error = _error("PUT", "/v1/messages/1", body, methods=("UpdateMessageStar",))
    assert (error.http_status, error.code.name, error.reason) == (
        400,
        "INVALID_ARGUMENT",
        "INVALID_ARGUMENT",
    )
    assert words in error.message


def test_body__on_a_route_without_body_is_rejected() -> None:
    error = _error("GET", "/v1/messages/1", b'{"revision": 1}', methods=("GetMessage",))
    assert error.http_status == 400
    assert "no request body" in error.message


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_body__non_json_content_type_is_415(content_type: str) -> None:
    error = _error(
        "PUT", "/v1/messages/1", b"{}", methods=("UpdateMessageStar",), content_type=content_type
    )
    assert (error.http_status, error.reason) == (415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    "content_type", [None, "application/json; charset=utf-8", "application/merge-patch+json"]
)
def test_body__json_content_types_and_none_are_accepted(content_type: str | None) -> None:
    _, request = transcode(
        "PUT",
        "/v1/messages/1",
        b'{"text": "x"}',
        methods=("UpdateMessageStar",),
        content_type=content_type,
    )
    assert request["text"] == "x"


def test_body__empty_body_on_a_body_route_is_an_empty_message() -> None:
    _, request = transcode("PUT", "/v1/messages/1", b"", methods=("UpdateMessageStar",))
    assert request == {"message_id": "1"}


def test_response_body__renders_only_that_field() -> None:
    (echo, wait) = bindings_for(protos.service("Testing"))
    response = protos.message_class("EchoResponse")(text="hi", metadata={"a": "b"})
    assert ResponseWriter(wait).render(response) == b'"hi"'
    assert ResponseWriter(echo).render(response) == b'{"text":"hi","metadata":{"a":"b"}}'


@pytest.mark.parametrize(
    ("raw", "path", "expected"),
    [
        ("/v1/r/{revision}", "/v1/r/-5", {"revision": "-5"}),
        ("/v1/c/{color}", "/v1/c/COLOR_RED", {"color": "COLOR_RED"}),
        ("/v1/c/{color}", "/v1/c/2", {"color": "COLOR_BLUE"}),
        ("/v1/f/{flag}/{ratio}", "/v1/f/true/0.5", {"flag": True, "ratio": 0.5}),
    ],
)
def test_path__non_string_fields_are_converted(
    raw: str, path: str, expected: dict[str, Any]
) -> None:
    builder = _builder_for(raw)
    values = PathTemplate(raw).match(path)
    assert values is not None
    request = builder.build(values, b"", b"", None)
    assert json_format.MessageToDict(request, preserving_proto_field_name=True) == expected


@pytest.mark.parametrize(
    ("raw", "path"), [("/v1/r/{revision}", "/v1/r/x"), ("/v1/c/{color}", "/v1/c/GREEN")]
)
def test_path__bad_value_for_a_typed_field_is_400(raw: str, path: str) -> None:
    values = PathTemplate(raw).match(path)
    assert values is not None
    with pytest.raises(GatewayError) as caught:
        _builder_for(raw).build(values, b"", b"", None)
    assert caught.value.http_status == 400


def _builder_for(raw: str) -> RequestBuilder:
    (get,) = [
        b for b in bindings_for(protos.service("Messaging")) if b.method.name == "GetMessageSub"
    ]
    return RequestBuilder(HttpBinding("GET", PathTemplate(raw), "", "", get.method))
