"""The server's input checks, as schema keywords of the request fields they apply to.

The gateway must not import the server (`services/validation.py` holds the checks), so
the rules are restated here; tests/gateway/test_openapi.py sends each boundary value to
a real server to prove the document claims no check the server does not make.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.descriptor import FieldDescriptor, ServiceDescriptor

from gateway.openapi_schemas import NO_RULE, FieldRule
from gateway.services import REST_SERVICES

_PACKAGE = "stepline.v1"
_UUID = "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
# Names: 1-255 printable characters without whitespace; where a name may be empty, empty
# means the default (task_queue) or no filter.
_NAME = FieldRule({"maxLength": 255, "pattern": "^\\S*$"})
# Free text: any characters but NUL (PostgreSQL text cannot hold it; refused on both backends).
_NO_NUL = "^[^\\u0000]*$"

# By field name, for every field of that name in a request of a REST service.
_BY_NAME = {
    # Empty means "default"; in a path it is never empty.
    "namespace_id": FieldRule({"pattern": "^[A-Za-z0-9._-]{0,63}$"}),
    "run_id": FieldRule({"pattern": _UUID}, required=True),
    "step_attempt_id": FieldRule({"pattern": _UUID}, required=True),
    "page_size": FieldRule({"minimum": 0, "maximum": 1000}),
    "workflow_name": _NAME,
    "task_queue": _NAME,
}
# By full name: these win over the rules by name.
_BY_FULL_NAME = {
    f"{_PACKAGE}.StartWorkflowRequest.workflow_name": FieldRule(
        {"minLength": 1, "maxLength": 255, "pattern": "^\\S+$"}, required=True
    ),
    f"{_PACKAGE}.StartWorkflowRequest.version": FieldRule({"maxLength": 255, "pattern": _NO_NUL}),
    f"{_PACKAGE}.StartWorkflowRequest.idempotency_key": FieldRule(
        {"maxLength": 255, "pattern": _NO_NUL}
    ),
    f"{_PACKAGE}.CancelWorkflowRunRequest.reason": FieldRule(
        {"maxLength": 1024, "pattern": _NO_NUL}
    ),
}


def _rules(services: Iterable[ServiceDescriptor]) -> dict[str, FieldRule]:
    rules: dict[str, FieldRule] = {}
    for service in services:
        for method in service.methods:
            for field in method.input_type.fields:
                rule = _BY_FULL_NAME.get(field.full_name) or _BY_NAME.get(field.name)
                if rule is not None:
                    rules[field.full_name] = rule
    return rules


FIELD_RULES = _rules(REST_SERVICES)


def field_rule(field: FieldDescriptor) -> FieldRule:
    return FIELD_RULES.get(field.full_name, NO_RULE)
