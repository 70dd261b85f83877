"""The SDK's error tree. Every gRPC error maps by its google.rpc.ErrorInfo reason to one
class; UNAVAILABLE (the server is down, or its database is) is ServerUnavailable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import grpc
from google.rpc import error_details_pb2, status_pb2

if TYPE_CHECKING:
    from stepline._values import Failure, Run

_STATUS_DETAILS_KEY = "grpc-status-details-bin"


class SteplineError(Exception):
    """Root of the SDK's errors. Server errors carry the gRPC `code`, the ErrorInfo
    `reason` and its `metadata` (IDs, or the bad `field`)."""

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode | None = None,
        reason: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(SteplineError):
    """A field is missing or malformed; `metadata["field"]` names it."""


class PayloadTooLarge(InvalidArgument):
    """A payload is over the server's size limit."""


class InvalidPageToken(InvalidArgument):
    """A page token was altered, truncated, or used with other filters."""


class RunNotFound(SteplineError):
    """No run with that ID in the namespace."""


class EventNotFound(SteplineError):
    """No event with that ID in the namespace."""


class WorkflowNotFound(SteplineError):
    """No worker ever registered the workflow (a server run with --require-registered)."""


class StepAttemptNotFound(SteplineError):
    """No step attempt with that ID in the run."""


class IdempotencyConflict(SteplineError):
    """The idempotency key belongs to a run of another workflow."""


class LeaseLost(SteplineError):
    """The worker's lease on the run is stale, expired, or voided by a cancel."""


class ExecutionAlreadyEnded(LeaseLost):
    """A call that ends an execution (complete, fail, sleep, a failed step) under the lease
    whose execution already ended with another result: the first result stands. (The
    same call sent again answers the run as recorded.) A LeaseLost: the execution is over."""


class RunAlreadyTerminal(SteplineError):
    """Canceling a COMPLETED or FAILED run."""


class RunNotTerminal(SteplineError):
    """Replaying a run that has not ended: only COMPLETED, FAILED or CANCELED runs replay."""


class ScheduleNotFound(SteplineError):
    """No schedule with that ID in the client's namespace."""


class ScheduleAlreadyExists(SteplineError):
    """Creating a schedule whose ID the namespace already has."""


class StepNotFound(InvalidArgument):
    """Replaying from a step the run never recorded; `metadata["step_id"]` names it."""


class RunDeadlineExceeded(SteplineError):
    """A worker call after the run's deadline: the run is now FAILED."""


class StepStateError(SteplineError):
    """A step call that does not fit the step's recorded state (STEP_NOT_RUNNING,
    STEP_KIND_MISMATCH, STEP_ALREADY_COMPLETED)."""


class ServerUnavailable(SteplineError):
    """The server (or its database) cannot be reached; retry later."""


class RunFailed(SteplineError):
    """`result()` of a run that ended FAILED; `run.error` says why."""

    def __init__(self, run: Run) -> None:
        error = run.error
        detail = f"{error.type}: {error.message}" if error is not None else "no error recorded"
        super().__init__(f"run {run.run_id} failed: {detail}")
        self.run = run

    @property
    def failure(self) -> Failure | None:
        return self.run.error


class RunCanceled(SteplineError):
    """`result()` of a run that ended CANCELED."""

    def __init__(self, run: Run) -> None:
        reason = run.error.message if run.error is not None else ""
        super().__init__(f"run {run.run_id} was canceled" + (f": {reason}" if reason else ""))
        self.run = run


class NonRetryableError(Exception):
    """Raise it (or a subclass) from a step or a workflow to fail the run for good,
    without in-process step retries or the run's retry policy. `details` is any JSON."""

    def __init__(self, message: str = "", *, details: object = None) -> None:
        super().__init__(message)
        self.details = details


class ChildRunFailed(NonRetryableError):
    """`ctx.step.invoke` of a child run that FAILED or was CANCELED: `failure` is the
    child's error, `child_run_id` the child. Catch it to carry on in the parent; uncaught,
    it fails the parent for good (retrying cannot change a recorded child)."""

    def __init__(self, child_run_id: str, failure: Failure) -> None:
        super().__init__(
            f"child run {child_run_id} ended with {failure.type}: {failure.message}",
            details={"child_run_id": child_run_id, "type": failure.type},
        )
        self.child_run_id = child_run_id
        self.failure = failure


class DuplicateStepError(NonRetryableError):
    """One execution of a workflow used the same step id twice."""


class NotSerializableError(NonRetryableError, TypeError):
    """A step output, workflow result or input is not JSON-serialisable."""


_BY_REASON: dict[str, type[SteplineError]] = {
    "INVALID_ARGUMENT": InvalidArgument,
    "PAYLOAD_TOO_LARGE": PayloadTooLarge,
    "INVALID_PAGE_TOKEN": InvalidPageToken,
    "RUN_NOT_FOUND": RunNotFound,
    "STEP_ATTEMPT_NOT_FOUND": StepAttemptNotFound,
    "WORKFLOW_NOT_FOUND": WorkflowNotFound,
    "IDEMPOTENCY_CONFLICT": IdempotencyConflict,
    "LEASE_LOST": LeaseLost,
    "EXECUTION_ALREADY_ENDED": ExecutionAlreadyEnded,
    "RUN_ALREADY_TERMINAL": RunAlreadyTerminal,
    "RUN_DEADLINE_EXCEEDED": RunDeadlineExceeded,
    "RUN_NOT_TERMINAL": RunNotTerminal,
    "SCHEDULE_NOT_FOUND": ScheduleNotFound,
    "SCHEDULE_ALREADY_EXISTS": ScheduleAlreadyExists,
    "STEP_NOT_FOUND": StepNotFound,
    "STEP_NOT_RUNNING": StepStateError,
    "STEP_KIND_MISMATCH": StepStateError,
    "STEP_ALREADY_COMPLETED": StepStateError,
    "STORAGE_UNAVAILABLE": ServerUnavailable,
    "EVENT_NOT_FOUND": EventNotFound,
}
_BY_CODE: dict[grpc.StatusCode, type[SteplineError]] = {
    grpc.StatusCode.UNAVAILABLE: ServerUnavailable,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
}


def _error_info(status: status_pb2.Status) -> error_details_pb2.ErrorInfo | None:
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def _error(code: grpc.StatusCode, message: str, status: status_pb2.Status | None) -> SteplineError:
    info = _error_info(status) if status is not None else None
    reason = info.reason if info is not None else ""
    metadata = dict(info.metadata) if info is not None else {}
    cls = _BY_REASON.get(reason) or _BY_CODE.get(code, SteplineError)
    return cls(message or code.name, code=code, reason=reason, metadata=metadata)


def from_rpc_error(error: grpc.aio.AioRpcError) -> SteplineError:
    """The SDK error for a failed call: by ErrorInfo reason, else by status code."""
    metadata: Any = error.trailing_metadata()
    value = metadata.get(_STATUS_DETAILS_KEY) if metadata else None
    status = status_pb2.Status.FromString(value) if isinstance(value, bytes) else None
    return _error(error.code(), error.details() or "", status)


_CODES = {code.value[0]: code for code in grpc.StatusCode}


def from_status(status: status_pb2.Status) -> SteplineError:
    """The SDK error for a call answered with an error on the worker stream."""
    code = _CODES.get(status.code, grpc.StatusCode.UNKNOWN)
    return _error(code, status.message, status)
