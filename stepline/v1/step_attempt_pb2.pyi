import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from stepline.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StepKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STEP_KIND_UNSPECIFIED: _ClassVar[StepKind]
    STEP_KIND_FUNCTION: _ClassVar[StepKind]
    STEP_KIND_SLEEP: _ClassVar[StepKind]
    STEP_KIND_CHILD: _ClassVar[StepKind]
    STEP_KIND_SIGNAL: _ClassVar[StepKind]
    STEP_KIND_EVENT: _ClassVar[StepKind]

class StepAttemptStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STEP_ATTEMPT_STATUS_UNSPECIFIED: _ClassVar[StepAttemptStatus]
    STEP_ATTEMPT_STATUS_RUNNING: _ClassVar[StepAttemptStatus]
    STEP_ATTEMPT_STATUS_COMPLETED: _ClassVar[StepAttemptStatus]
    STEP_ATTEMPT_STATUS_FAILED: _ClassVar[StepAttemptStatus]
STEP_KIND_UNSPECIFIED: StepKind
STEP_KIND_FUNCTION: StepKind
STEP_KIND_SLEEP: StepKind
STEP_KIND_CHILD: StepKind
STEP_KIND_SIGNAL: StepKind
STEP_KIND_EVENT: StepKind
STEP_ATTEMPT_STATUS_UNSPECIFIED: StepAttemptStatus
STEP_ATTEMPT_STATUS_RUNNING: StepAttemptStatus
STEP_ATTEMPT_STATUS_COMPLETED: StepAttemptStatus
STEP_ATTEMPT_STATUS_FAILED: StepAttemptStatus

class StepAttempt(_message.Message):
    __slots__ = ("step_attempt_id", "namespace_id", "workflow_run_id", "step_id", "kind", "status", "attempt", "config", "context", "output", "error", "child_workflow_run_id", "worker_id", "started_at", "finished_at", "created_at", "updated_at", "wake_up_at", "copied_from_step_attempt_id", "wait_name", "wait_match")
    STEP_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CHILD_WORKFLOW_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    WAKE_UP_AT_FIELD_NUMBER: _ClassVar[int]
    COPIED_FROM_STEP_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    WAIT_NAME_FIELD_NUMBER: _ClassVar[int]
    WAIT_MATCH_FIELD_NUMBER: _ClassVar[int]
    step_attempt_id: str
    namespace_id: str
    workflow_run_id: str
    step_id: str
    kind: StepKind
    status: StepAttemptStatus
    attempt: int
    config: _struct_pb2.Value
    context: _struct_pb2.Struct
    output: _struct_pb2.Value
    error: _common_pb2.Failure
    child_workflow_run_id: str
    worker_id: str
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    wake_up_at: _timestamp_pb2.Timestamp
    copied_from_step_attempt_id: str
    wait_name: str
    wait_match: _struct_pb2.Struct
    def __init__(self, step_attempt_id: _Optional[str] = ..., namespace_id: _Optional[str] = ..., workflow_run_id: _Optional[str] = ..., step_id: _Optional[str] = ..., kind: _Optional[_Union[StepKind, str]] = ..., status: _Optional[_Union[StepAttemptStatus, str]] = ..., attempt: _Optional[int] = ..., config: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., output: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ..., child_workflow_run_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., wake_up_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., copied_from_step_attempt_id: _Optional[str] = ..., wait_name: _Optional[str] = ..., wait_match: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
