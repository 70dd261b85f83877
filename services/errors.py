"""Every failure leaves as a gRPC status with a google.rpc.ErrorInfo (and a BadRequest
for a bad field); a stack trace never reaches a client.

Servicer methods are wrapped by `rpc`, which turns ApiError and storage errors into
statuses through the single table below, and anything unexpected into INTERNAL.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from stepline.v1 import error_reason_pb2
from storage import errors as store_errors

DOMAIN = "stepline"
_PREFIX = "ERROR_REASON_"
Reason = error_reason_pb2.ErrorReason

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error to send to the client as it is."""

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: Reason,
        message: str,
        metadata: dict[str, str] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})
        self.field = field
        if field is not None:
            self.metadata.setdefault("field", field)

    @property
    def reason_name(self) -> str:
        return error_reason_pb2.ErrorReason.Name(self.reason).removeprefix(_PREFIX)

    def to_proto(self) -> status_pb2.Status:
        """The google.rpc.Status: code, message, ErrorInfo and, for a bad field, BadRequest."""
        info = error_details_pb2.ErrorInfo(
            reason=self.reason_name, domain=DOMAIN, metadata=self.metadata
        )
        details = [_pack(info)]
        if self.field is not None:
            violation = error_details_pb2.BadRequest.FieldViolation(
                field=self.field, description=self.message
            )
            details.append(_pack(error_details_pb2.BadRequest(field_violations=[violation])))
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=details)

    def to_status(self) -> grpc.Status:
        return rpc_status.to_status(self.to_proto())


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def invalid(field: str, message: str, reason: Reason | None = None) -> ApiError:
    return ApiError(
        grpc.StatusCode.INVALID_ARGUMENT,
        error_reason_pb2.ERROR_REASON_INVALID_ARGUMENT if reason is None else reason,
        f"{field}: {message}",
        field=field,
    )


R = error_reason_pb2
_FAILED = grpc.StatusCode.FAILED_PRECONDITION


# Each storage error: its status code, its reason, the ErrorInfo metadata (key: the
# error's attribute; an enum attribute gives its value) and the bad field, if any.
_Mapping = tuple[grpc.StatusCode, Reason, dict[str, str], str | None]
_NOT_FOUND = grpc.StatusCode.NOT_FOUND
_EXISTS = grpc.StatusCode.ALREADY_EXISTS
_RUN = {"run_id": "run_id", "run_status": "status"}
_STORE_ERRORS: dict[type[store_errors.StoreError], _Mapping] = {
    store_errors.RunNotFound: (
        _NOT_FOUND,
        R.ERROR_REASON_RUN_NOT_FOUND,
        {"namespace_id": "namespace_id", "run_id": "run_id"},
        None,
    ),
    store_errors.ScheduleNotFound: (
        _NOT_FOUND,
        R.ERROR_REASON_SCHEDULE_NOT_FOUND,
        {"namespace_id": "namespace_id", "schedule_id": "schedule_id"},
        None,
    ),
    store_errors.ScheduleAlreadyExists: (
        _EXISTS,
        R.ERROR_REASON_SCHEDULE_ALREADY_EXISTS,
        {"namespace_id": "namespace_id", "schedule_id": "schedule_id"},
        None,
    ),
    store_errors.EventNotFound: (
        _NOT_FOUND,
        R.ERROR_REASON_EVENT_NOT_FOUND,
        {"namespace_id": "namespace_id", "event_id": "event_id"},
        None,
    ),
    store_errors.WorkflowNotFound: (
        _NOT_FOUND,
        R.ERROR_REASON_WORKFLOW_NOT_FOUND,
        {"namespace_id": "namespace_id", "workflow_name": "workflow_name"},
        None,
    ),
    store_errors.StepAttemptNotFound: (
        _NOT_FOUND,
        R.ERROR_REASON_STEP_ATTEMPT_NOT_FOUND,
        {"run_id": "run_id", "step_attempt_id": "step_attempt_id"},
        None,
    ),
    store_errors.LeaseLost: (_FAILED, R.ERROR_REASON_LEASE_LOST, _RUN, None),
    store_errors.ExecutionAlreadyEnded: (
        _FAILED,
        R.ERROR_REASON_EXECUTION_ALREADY_ENDED,
        _RUN,
        None,
    ),
    store_errors.IdempotencyConflict: (
        _EXISTS,
        R.ERROR_REASON_IDEMPOTENCY_CONFLICT,
        {
            "idempotency_key": "idempotency_key",
            "run_id": "run_id",
            "workflow_name": "workflow_name",
        },
        None,
    ),
    store_errors.RunAlreadyTerminal: (_FAILED, R.ERROR_REASON_RUN_ALREADY_TERMINAL, _RUN, None),
    store_errors.RunNotTerminal: (_FAILED, R.ERROR_REASON_RUN_NOT_TERMINAL, _RUN, None),
    store_errors.StepNotFound: (
        grpc.StatusCode.INVALID_ARGUMENT,
        R.ERROR_REASON_STEP_NOT_FOUND,
        {"run_id": "run_id", "step_id": "step_id"},
        "from_step_id",
    ),
    store_errors.RunDeadlineExceeded: (
        _FAILED,
        R.ERROR_REASON_RUN_DEADLINE_EXCEEDED,
        {"run_id": "run_id"},
        None,
    ),
    store_errors.StepNotRunning: (
        _FAILED,
        R.ERROR_REASON_STEP_NOT_RUNNING,
        {"step_attempt_id": "step_attempt_id", "step_status": "status"},
        None,
    ),
    store_errors.StepKindMismatch: (
        _FAILED,
        R.ERROR_REASON_STEP_KIND_MISMATCH,
        {"step_id": "step_id", "recorded_kind": "recorded"},
        None,
    ),
    store_errors.StepAlreadyCompleted: (
        _FAILED,
        R.ERROR_REASON_STEP_ALREADY_COMPLETED,
        {"step_id": "step_id", "step_attempt_id": "step_attempt_id"},
        None,
    ),
    store_errors.NamespaceNotFound: (
        _NOT_FOUND,
        R.ERROR_REASON_NAMESPACE_NOT_FOUND,
        {"namespace_id": "namespace_id"},
        None,
    ),
    store_errors.NamespaceAlreadyExists: (
        _EXISTS,
        R.ERROR_REASON_NAMESPACE_ALREADY_EXISTS,
        {"namespace_id": "namespace_id"},
        None,
    ),
    store_errors.ApiKeyNotFound: (
        _NOT_FOUND,
        R.ERROR_REASON_API_KEY_NOT_FOUND,
        {"namespace_id": "namespace_id", "key_id": "key_id"},
        None,
    ),
}


def from_store_error(exc: store_errors.StoreError) -> ApiError:
    """The one mapping of storage errors to API errors."""
    if isinstance(exc, store_errors.StorageUnavailable):
        return ApiError(
            grpc.StatusCode.UNAVAILABLE,
            R.ERROR_REASON_STORAGE_UNAVAILABLE,
            "the database is unavailable; retry later",
        )
    mapping = next(
        (_STORE_ERRORS[kind] for kind in type(exc).__mro__ if kind in _STORE_ERRORS), None
    )
    if mapping is None:
        log.error("unmapped storage error", exc_info=exc)
        return _internal()
    code, reason, attributes, field = mapping
    metadata = {key: _metadata_value(getattr(exc, name)) for key, name in attributes.items()}
    return ApiError(code, reason, str(exc), metadata, field=field)


def _metadata_value(value: object) -> str:
    return str(getattr(value, "value", value))


def _internal() -> ApiError:
    return ApiError(
        grpc.StatusCode.INTERNAL,
        R.ERROR_REASON_INTERNAL,
        "internal error; the server logged the details",
    )


Request = TypeVar("Request")
Response = TypeVar("Response")
Servicer = TypeVar("Servicer")
Handler = Callable[[Servicer, Request, grpc.aio.ServicerContext[Any, Any]], Awaitable[Response]]


def api_error(exc: Exception, where: str) -> ApiError:
    """What the client is told of `exc`, raised by `where` (unexpected ones are logged)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, store_errors.StoreError):
        return from_store_error(exc)
    log.error("unexpected error in %s", where, exc_info=exc)
    return _internal()


def rpc(
    handler: Handler[Servicer, Request, Response],
) -> Handler[Servicer, Request, Response]:
    """Turn every exception of a servicer method into a status with ErrorInfo."""

    @functools.wraps(handler)
    async def wrapper(
        self: Servicer, request: Request, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Response:
        try:
            return await handler(self, request, context)
        except Exception as exc:
            error = api_error(exc, handler.__qualname__)
        status = error.to_status()
        await context.abort(status.code, status.details, status.trailing_metadata)
        raise AssertionError("abort returned")  # pragma: no cover

    return wrapper
