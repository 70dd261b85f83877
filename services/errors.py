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


def from_store_error(exc: store_errors.StoreError) -> ApiError:
    """The one mapping of storage errors to API errors."""
    match exc:
        case store_errors.RunNotFound():
            return ApiError(
                grpc.StatusCode.NOT_FOUND,
                R.ERROR_REASON_RUN_NOT_FOUND,
                str(exc),
                {"namespace_id": exc.namespace_id, "run_id": exc.run_id},
            )
        case store_errors.ScheduleNotFound():
            return ApiError(
                grpc.StatusCode.NOT_FOUND,
                R.ERROR_REASON_SCHEDULE_NOT_FOUND,
                str(exc),
                {"namespace_id": exc.namespace_id, "schedule_id": exc.schedule_id},
            )
        case store_errors.ScheduleAlreadyExists():
            return ApiError(
                grpc.StatusCode.ALREADY_EXISTS,
                R.ERROR_REASON_SCHEDULE_ALREADY_EXISTS,
                str(exc),
                {"namespace_id": exc.namespace_id, "schedule_id": exc.schedule_id},
            )
        case store_errors.EventNotFound():
            return ApiError(
                grpc.StatusCode.NOT_FOUND,
                R.ERROR_REASON_EVENT_NOT_FOUND,
                str(exc),
                {"namespace_id": exc.namespace_id, "event_id": exc.event_id},
            )
        case store_errors.WorkflowNotFound():
            return ApiError(
                grpc.StatusCode.NOT_FOUND,
                R.ERROR_REASON_WORKFLOW_NOT_FOUND,
                str(exc),
                {"namespace_id": exc.namespace_id, "workflow_name": exc.workflow_name},
            )
        case store_errors.StepAttemptNotFound():
            return ApiError(
                grpc.StatusCode.NOT_FOUND,
                R.ERROR_REASON_STEP_ATTEMPT_NOT_FOUND,
                str(exc),
                {"run_id": exc.run_id, "step_attempt_id": exc.step_attempt_id},
            )
        case store_errors.LeaseLost():
            meta = {"run_id": exc.run_id, "run_status": exc.status.value}
            return ApiError(_FAILED, R.ERROR_REASON_LEASE_LOST, str(exc), meta)
        case store_errors.ExecutionAlreadyEnded():
            meta = {"run_id": exc.run_id, "run_status": exc.status.value}
            return ApiError(_FAILED, R.ERROR_REASON_EXECUTION_ALREADY_ENDED, str(exc), meta)
        case store_errors.IdempotencyConflict():
            return ApiError(
                grpc.StatusCode.ALREADY_EXISTS,
                R.ERROR_REASON_IDEMPOTENCY_CONFLICT,
                str(exc),
                {
                    "idempotency_key": exc.idempotency_key,
                    "run_id": exc.run_id,
                    "workflow_name": exc.workflow_name,
                },
            )
        case store_errors.RunAlreadyTerminal():
            meta = {"run_id": exc.run_id, "run_status": exc.status.value}
            return ApiError(_FAILED, R.ERROR_REASON_RUN_ALREADY_TERMINAL, str(exc), meta)
        case store_errors.RunNotTerminal():
            meta = {"run_id": exc.run_id, "run_status": exc.status.value}
            return ApiError(_FAILED, R.ERROR_REASON_RUN_NOT_TERMINAL, str(exc), meta)
        case store_errors.StepNotFound():
            return ApiError(
                grpc.StatusCode.INVALID_ARGUMENT,
                R.ERROR_REASON_STEP_NOT_FOUND,
                str(exc),
                {"run_id": exc.run_id, "step_id": exc.step_id},
                field="from_step_id",
            )
        case store_errors.RunDeadlineExceeded():
            meta = {"run_id": exc.run_id}
            return ApiError(_FAILED, R.ERROR_REASON_RUN_DEADLINE_EXCEEDED, str(exc), meta)
        case store_errors.StepNotRunning():
            meta = {"step_attempt_id": exc.step_attempt_id, "step_status": exc.status.value}
            return ApiError(_FAILED, R.ERROR_REASON_STEP_NOT_RUNNING, str(exc), meta)
        case store_errors.StepKindMismatch():
            meta = {"step_id": exc.step_id, "recorded_kind": exc.recorded.value}
            return ApiError(_FAILED, R.ERROR_REASON_STEP_KIND_MISMATCH, str(exc), meta)
        case store_errors.StepAlreadyCompleted():
            meta = {"step_id": exc.step_id, "step_attempt_id": exc.step_attempt_id}
            return ApiError(_FAILED, R.ERROR_REASON_STEP_ALREADY_COMPLETED, str(exc), meta)
        case store_errors.NamespaceNotFound():
            meta = {"namespace_id": exc.namespace_id}
            return ApiError(
                grpc.StatusCode.NOT_FOUND, R.ERROR_REASON_NAMESPACE_NOT_FOUND, str(exc), meta
            )
        case store_errors.NamespaceAlreadyExists():
            meta = {"namespace_id": exc.namespace_id}
            return ApiError(
                grpc.StatusCode.ALREADY_EXISTS,
                R.ERROR_REASON_NAMESPACE_ALREADY_EXISTS,
                str(exc),
                meta,
            )
        case store_errors.ApiKeyNotFound():
            meta = {"namespace_id": exc.namespace_id, "key_id": exc.key_id}
            return ApiError(
                grpc.StatusCode.NOT_FOUND, R.ERROR_REASON_API_KEY_NOT_FOUND, str(exc), meta
            )
        case store_errors.StorageUnavailable():
            return ApiError(
                grpc.StatusCode.UNAVAILABLE,
                R.ERROR_REASON_STORAGE_UNAVAILABLE,
                "the database is unavailable; retry later",
            )
    log.error("unmapped storage error", exc_info=exc)
    return _internal()


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
