import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from stepline.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Signal(_message.Message):
    __slots__ = ("signal_id", "namespace_id", "run_id", "signal_name", "payload", "idempotency_key", "created_at", "consumed_at", "consumed_by_step_attempt_id")
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_NAME_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CONSUMED_AT_FIELD_NUMBER: _ClassVar[int]
    CONSUMED_BY_STEP_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    namespace_id: str
    run_id: str
    signal_name: str
    payload: _struct_pb2.Value
    idempotency_key: str
    created_at: _timestamp_pb2.Timestamp
    consumed_at: _timestamp_pb2.Timestamp
    consumed_by_step_attempt_id: str
    def __init__(self, signal_id: _Optional[str] = ..., namespace_id: _Optional[str] = ..., run_id: _Optional[str] = ..., signal_name: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., consumed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., consumed_by_step_attempt_id: _Optional[str] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("event_id", "namespace_id", "event_name", "data", "idempotency_key", "received_at")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    namespace_id: str
    event_name: str
    data: _struct_pb2.Struct
    idempotency_key: str
    received_at: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., namespace_id: _Optional[str] = ..., event_name: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChildWait(_message.Message):
    __slots__ = ("workflow_name", "version", "task_queue", "input", "context", "retry_policy")
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    workflow_name: str
    version: str
    task_queue: str
    input: _struct_pb2.Value
    context: _struct_pb2.Struct
    retry_policy: _common_pb2.RetryPolicy
    def __init__(self, workflow_name: _Optional[str] = ..., version: _Optional[str] = ..., task_queue: _Optional[str] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., retry_policy: _Optional[_Union[_common_pb2.RetryPolicy, _Mapping]] = ...) -> None: ...

class SignalWait(_message.Message):
    __slots__ = ("signal_name",)
    SIGNAL_NAME_FIELD_NUMBER: _ClassVar[int]
    signal_name: str
    def __init__(self, signal_name: _Optional[str] = ...) -> None: ...

class EventWait(_message.Message):
    __slots__ = ("event_name", "match")
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    event_name: str
    match: _struct_pb2.Struct
    def __init__(self, event_name: _Optional[str] = ..., match: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
