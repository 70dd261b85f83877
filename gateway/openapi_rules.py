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
# Names: 1-255 characters without whitespace, control or invisible format characters;
# where a name may be empty, empty means the default (task_queue) or no filter. The same
# class as services/validation.py's NAME_CHARACTERS (a test holds them equal).
_NAME_CHARS = (
    "[^\\u0000-\\u0020\\u007f-\\u00a0\\u00ad\\u1680\\u180e\\u2000-\\u200f"
    "\\u2028-\\u202f\\u205f-\\u2064\\u2066-\\u206f\\u3000\\ufeff]"
)
_NAME = FieldRule({"maxLength": 255, "pattern": f"^{_NAME_CHARS}*$"})
# Free text: any characters but NUL (PostgreSQL text cannot hold it; refused on both backends).
_NO_NUL = "^[^\\u0000]*$"

_RUN_STATUS = (
    REST_SERVICES[0]
    .methods_by_name["ListWorkflowRuns"]
    .input_type.fields_by_name["statuses"]
    .enum_type
)
assert _RUN_STATUS is not None
_SPECIFIED_STATUSES = {
    "type": "string",
    "enum": [value.name for value in _RUN_STATUS.values if value.number != 0],
}
# By field name, for every field of that name in a request of a REST service.
_BY_NAME = {
    # Empty means "default"; in a path it is never empty.
    "namespace_id": FieldRule({"pattern": "^[A-Za-z0-9._-]{0,63}$"}),
    "run_id": FieldRule({"pattern": _UUID}, required=True),
    "step_attempt_id": FieldRule({"pattern": _UUID}, required=True),
    "event_id": FieldRule({"pattern": _UUID}, required=True),
    "page_size": FieldRule({"minimum": 0, "maximum": 1000}),
    # Opaque and sealed: only a token the server returned is valid (any other is a 400,
    # reason INVALID_PAGE_TOKEN); all have this form, and empty means the first page.
    "page_token": FieldRule({"maxLength": 1024, "pattern": "^[A-Za-z0-9_-]*$"}),
    "workflow_name": _NAME,
    "task_queue": _NAME,
    # A filter: empty means none.
    "replay_of_run_id": FieldRule({"pattern": f"^({_UUID[1:-1]})?$"}),
    "parent_run_id": FieldRule({"pattern": f"^({_UUID[1:-1]})?$"}),
    # A filter of ListEvents: empty means none (SendEvent's is required, below).
    "event_name": _NAME,
    # Empty: replay from the start.
    "from_step_id": _NAME,
    # Empty: the server names the batch.
    "batch_id": _NAME,
    # Free text, at most 255 characters: version, idempotency keys.
    "version": FieldRule({"maxLength": 255, "pattern": _NO_NUL}),
    "idempotency_key": FieldRule({"maxLength": 255, "pattern": _NO_NUL}),
    # Why runs are canceled (CancelWorkflowRun, BatchCancelWorkflowRuns).
    "reason": FieldRule({"maxLength": 1024, "pattern": _NO_NUL}),
    # A schedule's ID: a name, never empty.
    "schedule_id": FieldRule(
        {"minLength": 1, "maxLength": 255, "pattern": f"^{_NAME_CHARS}+$"}, required=True
    ),
    # 1 (highest) to 5; 0 (unset) means the default, 3.
    "priority": FieldRule({"minimum": 0, "maximum": 5}),
    "concurrency_key": FieldRule({"maxLength": 255, "pattern": _NO_NUL}),
    # A key's ID (the path of RevokeApiKey).
    "key_id": FieldRule({"maxLength": 255, "pattern": f"^{_NAME_CHARS}+$"}, required=True),
    # A namespace's free text.
    "description": FieldRule({"maxLength": 1024, "pattern": _NO_NUL}),
    # How long finished runs are kept: not negative (below the Duration's 10,000 years).
    "retention": FieldRule({"pattern": "^[0-9]{1,11}(\\.[0-9]{1,9})?s$"}),
    # The server refuses WORKFLOW_RUN_STATUS_UNSPECIFIED as a filter value.
    "statuses": FieldRule({"items": _SPECIFIED_STATUSES}),
}
# Retry intervals: positive (after the server truncates to microseconds) and at most
# 10 years, 315576000s. As a pattern over the Duration string: 1 to 315575999 seconds with
# any fraction; 0 seconds with a non-zero digit among the first six of the fraction; or
# exactly 315576000 seconds with no non-zero digit among the first six.
_FRACTION = "(\\.[0-9]{1,9})?"
_SECONDS_BELOW_CAP = (
    "0*[1-9][0-9]{0,7}|[12][0-9]{8}|30[0-9]{7}|31[0-4][0-9]{6}|315[0-4][0-9]{5}"
    "|3155[0-6][0-9]{4}|31557[0-5][0-9]{3}"
)
_MICROS = "|".join(f"0{{{zeros}}}[1-9][0-9]{{0,{8 - zeros}}}" for zeros in range(6))
_AT_CAP = "315576000(\\.0{1,6}|\\.0{6}[0-9]{1,3})?"
_RETRY_INTERVAL = FieldRule(
    {"pattern": f"^(({_SECONDS_BELOW_CAP}){_FRACTION}|0+\\.({_MICROS})|{_AT_CAP})s$"}
)
_ROLE = REST_SERVICES[1].methods_by_name["CreateApiKey"].input_type.fields_by_name["role"].enum_type
assert _ROLE is not None
# A key's namespace: a namespace, or "*" for an operator key.
_KEY_NAMESPACE = FieldRule({"pattern": "^([A-Za-z0-9._-]{0,63}|\\*)$"})
# By full name: these win over the rules by name.
_REQUIRED_NAME = FieldRule(
    {"minLength": 1, "maxLength": 255, "pattern": f"^{_NAME_CHARS}+$"}, required=True
)
_BY_FULL_NAME = {
    f"{_PACKAGE}.CreateNamespaceRequest.namespace_id": FieldRule(
        {"pattern": "^[A-Za-z0-9._-]{1,63}$"}, required=True
    ),
    f"{_PACKAGE}.CreateApiKeyRequest.namespace_id": _KEY_NAMESPACE,
    f"{_PACKAGE}.ListApiKeysRequest.namespace_id": _KEY_NAMESPACE,
    f"{_PACKAGE}.RevokeApiKeyRequest.namespace_id": _KEY_NAMESPACE,
    f"{_PACKAGE}.CreateApiKeyRequest.name": FieldRule(
        {"minLength": 1, "maxLength": 255, "pattern": f"^{_NAME_CHARS}+$"}, required=True
    ),
    f"{_PACKAGE}.CreateApiKeyRequest.role": FieldRule(
        {"type": "string", "enum": [v.name for v in _ROLE.values if v.number != 0]}, required=True
    ),
    f"{_PACKAGE}.StartWorkflowRequest.workflow_name": _REQUIRED_NAME,
    f"{_PACKAGE}.SignalWorkflowRunRequest.signal_name": _REQUIRED_NAME,
    f"{_PACKAGE}.SendEventRequest.event_name": _REQUIRED_NAME,
    **{
        f"{_PACKAGE}.{request}.workflow_name": _REQUIRED_NAME
        for request in (
            "StartWorkflowRequest",
            "GetWorkflowRequest",
            "PauseWorkflowRequest",
            "ResumeWorkflowRequest",
        )
    },
    f"{_PACKAGE}.CreateScheduleRequest.workflow_name": _REQUIRED_NAME,
    # Not negative, below the Duration's 10,000 years (the 1-second minimum of interval is
    # stated in its description).
    f"{_PACKAGE}.CreateScheduleRequest.interval": FieldRule(
        {"pattern": "^0*[0-9]{1,11}(\\.[0-9]{1,9})?s$"}
    ),
    f"{_PACKAGE}.CreateScheduleRequest.timezone": FieldRule({"maxLength": 255, "pattern": _NO_NUL}),
    f"{_PACKAGE}.CreateScheduleRequest.cron": FieldRule({"maxLength": 255, "pattern": _NO_NUL}),
    # 0 to 365 days (31536000s), any fraction below it.
    f"{_PACKAGE}.CreateScheduleRequest.catchup_window": FieldRule(
        {
            "pattern": "^0*(([0-9]{1,7}|[12][0-9]{7}|30[0-9]{6}|31[0-4][0-9]{5}"
            "|315[0-2][0-9]{4}|3153[0-5][0-9]{3})(\\.[0-9]{1,9})?|31536000(\\.0{1,9})?)s$"
        }
    ),
}


# Fields of messages nested in requests, by full name.
_NESTED = {
    # 0 (or unset) is the default, 2; else at least 1. JSON has no NaN or infinity.
    # One number type with `not` rather than a oneOf, so generated clients see a float.
    f"{_PACKAGE}.RetryPolicy.backoff_coefficient": FieldRule(
        {
            "oneOf": None,
            "type": "number",
            "minimum": 0,
            "not": {"exclusiveMinimum": 0, "exclusiveMaximum": 1},
        }
    ),
    # 0 is unlimited, 1 no retry.
    f"{_PACKAGE}.RetryPolicy.maximum_attempts": FieldRule({"minimum": 0}),
    f"{_PACKAGE}.RetryPolicy.initial_interval": _RETRY_INTERVAL,
    # A rule across two fields, which a schema cannot state: said in words.
    f"{_PACKAGE}.RetryPolicy.maximum_interval": FieldRule(
        {
            **_RETRY_INTERVAL.keywords,
            "description": "At least initialInterval; a smaller one is a 400 "
            "(retry_policy.maximum_interval: must be at least initial_interval).",
        }
    ),
}


def _rules(services: Iterable[ServiceDescriptor]) -> dict[str, FieldRule]:
    rules: dict[str, FieldRule] = dict(_NESTED)
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
