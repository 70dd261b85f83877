from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_ARGUMENT: _ClassVar[ErrorReason]
    ERROR_REASON_PAYLOAD_TOO_LARGE: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_PAGE_TOKEN: _ClassVar[ErrorReason]
    ERROR_REASON_RUN_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_STEP_ATTEMPT_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_LEASE_LOST: _ClassVar[ErrorReason]
    ERROR_REASON_IDEMPOTENCY_CONFLICT: _ClassVar[ErrorReason]
    ERROR_REASON_RUN_ALREADY_TERMINAL: _ClassVar[ErrorReason]
    ERROR_REASON_RUN_DEADLINE_EXCEEDED: _ClassVar[ErrorReason]
    ERROR_REASON_STEP_NOT_RUNNING: _ClassVar[ErrorReason]
    ERROR_REASON_STEP_KIND_MISMATCH: _ClassVar[ErrorReason]
    ERROR_REASON_STEP_ALREADY_COMPLETED: _ClassVar[ErrorReason]
    ERROR_REASON_STORAGE_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_INTERNAL: _ClassVar[ErrorReason]
    ERROR_REASON_RUN_NOT_TERMINAL: _ClassVar[ErrorReason]
    ERROR_REASON_STEP_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_EXECUTION_ALREADY_ENDED: _ClassVar[ErrorReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_INVALID_ARGUMENT: ErrorReason
ERROR_REASON_PAYLOAD_TOO_LARGE: ErrorReason
ERROR_REASON_INVALID_PAGE_TOKEN: ErrorReason
ERROR_REASON_RUN_NOT_FOUND: ErrorReason
ERROR_REASON_STEP_ATTEMPT_NOT_FOUND: ErrorReason
ERROR_REASON_LEASE_LOST: ErrorReason
ERROR_REASON_IDEMPOTENCY_CONFLICT: ErrorReason
ERROR_REASON_RUN_ALREADY_TERMINAL: ErrorReason
ERROR_REASON_RUN_DEADLINE_EXCEEDED: ErrorReason
ERROR_REASON_STEP_NOT_RUNNING: ErrorReason
ERROR_REASON_STEP_KIND_MISMATCH: ErrorReason
ERROR_REASON_STEP_ALREADY_COMPLETED: ErrorReason
ERROR_REASON_STORAGE_UNAVAILABLE: ErrorReason
ERROR_REASON_INTERNAL: ErrorReason
ERROR_REASON_RUN_NOT_TERMINAL: ErrorReason
ERROR_REASON_STEP_NOT_FOUND: ErrorReason
ERROR_REASON_EXECUTION_ALREADY_ENDED: ErrorReason
