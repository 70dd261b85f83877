"""The error body in the OpenAPI document: the statuses each RPC can answer, and the
schema of `{"code", "message", "details"}` with the detail types the gateway writes.
"""

from __future__ import annotations

from google.rpc import error_details_pb2

from gateway.openapi_schemas import Schema, SchemaRegistry, ref

JSON = "application/json"
STATUS_SCHEMA = "google.rpc.Status"
_PACKAGE = "stepline.v1"
_DETAIL_TYPES = (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest)
_DETAIL_DESCRIPTIONS = {
    "google.rpc.ErrorInfo": "Why the call failed: `reason` (an ErrorReason name without "
    'its prefix, or the gateway\'s own such as ROUTE_NOT_FOUND), `domain` "stepline", and '
    "`metadata` (ids, or the bad `field`).",
    "google.rpc.BadRequest": "The bad field, for INVALID_ARGUMENT errors of the server.",
}


# Every call can fail with these: a malformed request (the gateway or the server says
# INVALID_ARGUMENT), a request body or headers too large (any method: the gateway reads
# the body of every request), an internal error, the core or its database unavailable,
# or the upstream deadline (Grpc-Timeout) passing.
COMMON_STATUSES: dict[int, str] = {
    400: "The request is malformed or a field is invalid (INVALID_ARGUMENT); a page token "
    "the server did not return is INVALID_PAGE_TOKEN.",
    408: "The request's headers (10 s) or body (30 s, by default) did not arrive in time "
    "(REQUEST_TIMEOUT); the connection is closed.",
    413: "The request is larger than the server accepts (PAYLOAD_TOO_LARGE).",
    414: "The URL is longer than 16 KiB (URI_TOO_LONG).",
    431: "The forwarded headers (Authorization, trace headers, Grpc-Metadata-*) are too "
    "large (METADATA_TOO_LARGE).",
    500: "An unexpected error in the server (INTERNAL); the server logged it.",
    503: "The core or its database cannot be reached (UNAVAILABLE); retry later.",
    504: "The deadline passed before the call finished (DEADLINE_EXCEEDED).",
}
BODY_STATUSES: dict[int, str] = {
    415: "The request body is not JSON (Content-Type must be application/json), or not in "
    "UTF-8 (UNSUPPORTED_MEDIA_TYPE).",
}

# The further statuses an RPC answers, by method full name.
_RUN_NOT_FOUND = {404: "No run with that ID in that namespace (RUN_NOT_FOUND)."}
METHOD_STATUSES: dict[str, dict[int, str]] = {
    f"{_PACKAGE}.WorkflowService.StartWorkflow": {
        409: "The idempotency key belongs to a run of another workflow (IDEMPOTENCY_CONFLICT).",
    },
    f"{_PACKAGE}.WorkflowService.GetWorkflowRun": _RUN_NOT_FOUND,
    f"{_PACKAGE}.WorkflowService.CancelWorkflowRun": {
        400: "The request is invalid (INVALID_ARGUMENT), or the run is already COMPLETED "
        "or FAILED (FAILED_PRECONDITION, reason RUN_ALREADY_TERMINAL).",
        **_RUN_NOT_FOUND,
    },
    f"{_PACKAGE}.WorkflowService.ListStepAttempts": _RUN_NOT_FOUND,
    f"{_PACKAGE}.WorkflowService.ReplayWorkflowRun": {
        400: "The request is invalid (INVALID_ARGUMENT), the run has no step from_step_id "
        "(INVALID_ARGUMENT, reason STEP_NOT_FOUND), or the run is not COMPLETED, FAILED or "
        "CANCELED (FAILED_PRECONDITION, reason RUN_NOT_TERMINAL).",
        **_RUN_NOT_FOUND,
        409: "The idempotency key belongs to another run (IDEMPOTENCY_CONFLICT).",
    },
    f"{_PACKAGE}.WorkflowService.GetStepAttempt": {
        404: "No such run (RUN_NOT_FOUND), or no step attempt with that ID in that run "
        "(STEP_ATTEMPT_NOT_FOUND).",
    },
}


def error_statuses(method_full_name: str, has_body: bool) -> dict[int, str]:
    """HTTP status -> description of each error the RPC can answer, in status order."""
    statuses = {**COMMON_STATUSES, **(BODY_STATUSES if has_body else {})}
    statuses.update(METHOD_STATUSES.get(method_full_name, {}))
    return dict(sorted(statuses.items()))


def response(description: str) -> Schema:
    return {"description": description, "content": {JSON: {"schema": ref(STATUS_SCHEMA)}}}


def components(registry: SchemaRegistry) -> dict[str, Schema]:
    """google.rpc.Status as the gateway writes it, and the detail types it carries."""
    details: list[Schema] = []
    out: dict[str, Schema] = {}
    for detail_type in _DETAIL_TYPES:
        descriptor = detail_type.DESCRIPTOR
        schema = registry.object_schema(descriptor, ())
        schema["description"] = _DETAIL_DESCRIPTIONS[descriptor.full_name]
        type_url = f"type.googleapis.com/{descriptor.full_name}"
        schema["properties"] = {"@type": {"const": type_url}, **schema["properties"]}
        schema["required"] = ["@type"]
        out[descriptor.full_name] = schema
        details.append(ref(descriptor.full_name))
    out["google.protobuf.Any"] = {
        "type": "object",
        "description": "A detail of a type the gateway does not know, passed through as "
        "its type URL and base64 bytes.",
        "properties": {
            "@type": {"type": "string"},
            "value": {"type": "string", "contentEncoding": "base64"},
        },
        "required": ["@type", "value"],
        "additionalProperties": False,
    }
    details.append(ref("google.protobuf.Any"))
    out[STATUS_SCHEMA] = {
        "type": "object",
        "description": "An error: the gRPC status code and message, and details such as a "
        'google.rpc.ErrorInfo (`reason`, `domain` "stepline", `metadata`) and, for a bad '
        "field, a google.rpc.BadRequest.",
        "properties": {
            "code": {"type": "integer", "format": "int32", "description": "The gRPC code."},
            "message": {"type": "string", "description": "What went wrong."},
            "details": {"type": "array", "items": {"anyOf": details}},
        },
        "required": ["code", "message", "details"],
        "additionalProperties": False,
    }
    return out
