"""Routing when several templates could match: the most specific binding wins."""

from __future__ import annotations

import pytest

from gateway.errors import GatewayError
from gateway.http_rule import HttpBinding, PathTemplate, TemplateError, bindings_for
from gateway.router import Router
from gateway.services import REST_SERVICES
from tests.gateway import protos
from tests.gateway.test_transcode import transcode


class _Route:
    def __init__(self, binding: HttpBinding) -> None:
        self.binding = binding


def test_literal_segment_beats_a_variable() -> None:
    assert transcode("GET", "/v1/messages/latest", methods=("GetMessage", "GetLatest"))[0] == (
        "GetLatest"
    )
    assert transcode("GET", "/v1/messages/other", methods=("GetMessage", "GetLatest"))[0] == (
        "GetMessage"
    )


def test_custom_verb_beats_a_variable_that_would_swallow_it() -> None:
    methods = ("ArchiveMessage", "UpdateMessageStar")
    assert transcode("POST", "/v1/messages/9:archive", b"{}", methods=methods)[0] == (
        "ArchiveMessage"
    )


def test_single_segment_beats_double_wildcard() -> None:
    (file_binding,) = [
        b for b in bindings_for(protos.service("Messaging")) if b.method.name == "GetFile"
    ]
    narrow = HttpBinding("GET", PathTemplate("/v1/files/{name}"), "", "", file_binding.method)
    router = Router([_Route(file_binding), _Route(narrow)])
    assert router.find("GET", "/v1/files/a").route.binding is narrow
    assert router.find("GET", "/v1/files/a/b").route.binding is file_binding


def test_same_method_and_shape_twice_is_a_startup_error() -> None:
    bindings = bindings_for(protos.service("Messaging"))
    # http.proto's "/v1/{name=messages/*}" and "/v1/messages/{message_id}" are the same
    # shape: a gateway cannot tell them apart, so it refuses to start.
    with pytest.raises(TemplateError, match="ambiguous"):
        Router([_Route(b) for b in bindings])


def test_unknown_path_is_404_and_other_method_is_405_with_allow() -> None:
    router = Router([_Route(b) for b in bindings_for(protos.service("Testing"))])
    with pytest.raises(GatewayError) as missing:
        router.find("GET", "/v1/nowhere")
    assert (missing.value.http_status, missing.value.reason) == (404, "ROUTE_NOT_FOUND")
    with pytest.raises(GatewayError) as wrong:
        router.find("DELETE", "/v1/echo")
    assert (wrong.value.http_status, wrong.value.reason) == (405, "METHOD_NOT_ALLOWED")
    assert wrong.value.metadata["allow"] == "POST"


def test_equally_specific_templates__the_first_in_proto_order_wins() -> None:
    (file_binding,) = [
        b for b in bindings_for(protos.service("Messaging")) if b.method.name == "GetFile"
    ]
    left = HttpBinding("GET", PathTemplate("/v1/{a}/x"), "", "", file_binding.method)
    right = HttpBinding("GET", PathTemplate("/v1/x/{b}"), "", "", file_binding.method)
    # /v1/x/x matches both with one literal and one variable each.
    assert Router([_Route(left), _Route(right)]).find("GET", "/v1/x/x").route.binding is left
    assert Router([_Route(right), _Route(left)]).find("GET", "/v1/x/x").route.binding is right


@pytest.mark.parametrize("method", ["GET", "OPTIONS", "DELETE"])
def test_custom_verb_path__another_method_is_405_allowing_only_the_verbs(method: str) -> None:
    # GET /v1/namespaces/n/runs/{run_id} must not take "r1:cancel" as a run ID: the
    # :cancel resource has POST alone (issue 18: OPTIONS answered "Allow: GET, POST").
    router = Router([_Route(b) for s in REST_SERVICES for b in bindings_for(s)])
    with pytest.raises(GatewayError) as wrong:
        router.find(method, "/v1/namespaces/n/runs/r1:cancel")
    assert (wrong.value.http_status, wrong.value.metadata["allow"]) == (405, "POST")
    assert router.find("POST", "/v1/namespaces/n/runs/r1:cancel").route.binding.method.name == (
        "CancelWorkflowRun"
    )
    assert router.find("GET", "/v1/namespaces/n/runs/r1").route.binding.method.name == (
        "GetWorkflowRun"
    )
