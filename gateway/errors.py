"""gRPC status -> HTTP status and the JSON error body, as grpc-gateway writes them.

The body is `{"code": <grpc code>, "message": "...", "details": [...]}`; details come from
the rich status the core sends in `grpc-status-details-bin` (ErrorInfo, BadRequest),
rendered as proto3 JSON with their "@type". Errors the gateway makes itself (bad JSON,
unknown route, unreachable core) carry an ErrorInfo too. No stack trace, ever.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import grpc
from google.protobuf import any_pb2, json_format

# error_details_pb2 is imported for its side effect: ErrorInfo and BadRequest must be in
# the descriptor pool for MessageToDict to render them.
from google.rpc import error_details_pb2, status_pb2  # noqa: F401

log = logging.getLogger(__name__)

DOMAIN = "stepline"
_DETAILS_KEY = "grpc-status-details-bin"
_ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"

_CODES = grpc.StatusCode
# grpc-gateway's runtime.HTTPStatusFromCode.
HTTP_STATUS: dict[int, int] = {
    _CODES.OK.value[0]: 200,
    _CODES.CANCELLED.value[0]: 499,
    _CODES.UNKNOWN.value[0]: 500,
    _CODES.INVALID_ARGUMENT.value[0]: 400,
    _CODES.DEADLINE_EXCEEDED.value[0]: 504,
    _CODES.NOT_FOUND.value[0]: 404,
    _CODES.ALREADY_EXISTS.value[0]: 409,
    _CODES.PERMISSION_DENIED.value[0]: 403,
    _CODES.UNAUTHENTICATED.value[0]: 401,
    _CODES.RESOURCE_EXHAUSTED.value[0]: 429,
    _CODES.FAILED_PRECONDITION.value[0]: 400,
    _CODES.ABORTED.value[0]: 409,
    _CODES.OUT_OF_RANGE.value[0]: 400,
    _CODES.UNIMPLEMENTED.value[0]: 501,
    _CODES.INTERNAL.value[0]: 500,
    _CODES.UNAVAILABLE.value[0]: 503,
    _CODES.DATA_LOSS.value[0]: 500,
}


class GatewayError(Exception):
    """An error the gateway answers by itself, before or instead of calling the core."""

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: str,
        message: str,
        *,
        http_status: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.http_status = http_status or HTTP_STATUS.get(code.value[0], 500)
        self.metadata = metadata or {}

    def body(self) -> bytes:
        info = error_info(self.reason, self.metadata)
        return error_body(self.code.value[0], self.message, [info])


# A 401 names the scheme it wants (RFC 9110 section 11.6.1): an API key as a bearer token.
WWW_AUTHENTICATE = 'Bearer realm="stepline"'


def error_headers(error: GatewayError) -> dict[str, str]:
    return {"www-authenticate": WWW_AUTHENTICATE} if error.http_status == 401 else {}


def invalid(message: str, field: str | None = None, *, http_status: int = 400) -> GatewayError:
    """An INVALID_ARGUMENT error, naming the bad field or parameter when there is one."""
    metadata = {} if field is None else {"field": field}
    return GatewayError(
        _CODES.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
        message,
        http_status=http_status,
        metadata=metadata,
    )


def error_info(reason: str, metadata: dict[str, str]) -> dict[str, Any]:
    return {"@type": _ERROR_INFO_TYPE, "reason": reason, "domain": DOMAIN, "metadata": metadata}


def error_body(code: int, message: str, details: list[dict[str, Any]]) -> bytes:
    body = {"code": code, "message": message, "details": details}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def from_rpc_error(error: grpc.aio.AioRpcError, backend: str) -> tuple[int, bytes]:
    """The HTTP status and body for a failed call."""
    code = error.code()
    message = error.details() or code.name
    details = _rich_details(error.trailing_metadata())
    if not details and _too_large(code, message):
        # The core's gRPC receive limit: the request is too large, not a quota (429).
        info = error_info("PAYLOAD_TOO_LARGE", {})
        return 413, error_body(code.value[0], f"the request is too large: {message}", [info])
    if not details:
        # No rich status: the error came from the channel, not from the core.
        if code == _CODES.UNAVAILABLE:
            message = f"the stepline core at {backend} is unreachable: {message}"
        details = [error_info(code.name, {"backend": backend} if _is_local(code) else {})]
    status = HTTP_STATUS.get(code.value[0], 500)
    return status, error_body(code.value[0], message, details)


def _too_large(code: grpc.StatusCode, message: str) -> bool:
    # gRPC prefixes the side that refused: "SERVER: Received message larger than max (...)".
    # "CLIENT: ..." would be a response too large for the gateway: not the client's fault.
    text = message.removeprefix("SERVER: ")
    return code == _CODES.RESOURCE_EXHAUSTED and text.startswith("Received message larger")


def _is_local(code: grpc.StatusCode) -> bool:
    return code in (_CODES.UNAVAILABLE, _CODES.DEADLINE_EXCEEDED)


def _rich_details(trailing: Any) -> list[dict[str, Any]]:
    for key, value in trailing or ():
        if key == _DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            return [_detail_json(detail) for detail in status.details]
    return []


def _detail_json(detail: any_pb2.Any) -> dict[str, Any]:
    try:
        rendered: dict[str, Any] = json_format.MessageToDict(detail)
        if isinstance(rendered.get("metadata"), dict):  # ErrorInfo: a stable key order
            rendered["metadata"] = dict(sorted(rendered["metadata"].items()))
    except (json_format.Error, TypeError, KeyError):
        # A detail type this process does not know: pass it through opaquely.
        return {"@type": detail.type_url, "value": base64.b64encode(detail.value).decode()}
    return rendered
