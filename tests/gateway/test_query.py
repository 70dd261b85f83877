"""Query parameters -> request fields: every field not bound by the path or the body."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import GatewayError
from tests.gateway.test_transcode import transcode

GET = ("GetMessage",)

BINDINGS = [
    # http.proto: ?revision=2&sub.subfield=foo
    ("revision=2&sub.subfield=foo", {"revision": "2", "sub": {"subfield": "foo"}}),
    # JSON names too, nested by dots
    ("userId=u&sub.depth=3", {"user_id": "u", "sub": {"depth": 3}}),
    ("user_id=u", {"user_id": "u"}),
    # repeated by repetition
    ("tags=a&tags=b&tags=a", {"tags": ["a", "b", "a"]}),
    # enums by name or number, repeated or not
    ("color=COLOR_BLUE", {"color": "COLOR_BLUE"}),
    ("color=1", {"color": "COLOR_RED"}),
    ("colors=COLOR_RED&colors=2", {"colors": ["COLOR_RED", "COLOR_BLUE"]}),
    # bools, doubles, int64, Timestamp, percent-encoding
    ("flag=true", {"flag": True}),
    ("flag=0", {}),
    ("ratio=0.25&revision=-9007199254740993", {"ratio": 0.25, "revision": "-9007199254740993"}),
    ("since=2030-01-02T03:04:05Z", {"since": "2030-01-02T03:04:05Z"}),
    ("tags=a%20b&tags=%E2%9C%93", {"tags": ["a b", "\u2713"]}),
    # unknown parameters are ignored (grpc-gateway does the same), and so are the
    # parameters of fields bound by the path, maps and repeated messages
    ("nope=1&_=123&revision=1", {"revision": "1"}),
    ("message_id=other&labels.a=b&subs.subfield=x", {}),
]


@pytest.mark.parametrize(("query", "expected"), BINDINGS)
def test_query__binds_fields_not_in_path_or_body(query: str, expected: dict[str, Any]) -> None:
    _, request = transcode("GET", f"/v1/messages/m1?{query}", methods=GET)
    assert request == {"message_id": "m1", **expected}


def test_query__nested_path_field_is_not_taken_from_the_query() -> None:
    _, request = transcode(
        "GET", "/v1/messages/m/fromPath?sub.subfield=q&sub.depth=2", methods=("GetMessageSub",)
    )
    assert request == {"message_id": "m", "sub": {"subfield": "fromPath", "depth": 2}}


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("revision=abc", "revision"),
        ("color=COLOR_GREEN", "color"),
        ("flag=maybe", "flag"),
        ("since=yesterday", "since"),
        ("revision=1&revision=2", "revision"),
        ("sub.depth=1.5", "sub.depth"),
        ("revision=1&subDepth=2&sub.depth=x", "sub.depth"),
        ("userId=u&since=yesterday", "since"),
    ],
)
def test_query__bad_value_is_400_naming_the_parameter(query: str, named: str) -> None:
    with pytest.raises(GatewayError) as caught:
        transcode("GET", f"/v1/messages/m1?{query}", methods=GET)
    assert caught.value.http_status == 400
    assert caught.value.metadata == {"field": named}  # the parameter as it was sent
    assert named.rsplit(".", 1)[-1] in caught.value.message
