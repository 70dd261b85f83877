import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from stepline.v1 import access_pb2 as _access_pb2
from stepline.v1 import common_pb2 as _common_pb2
from stepline.v1 import registry_pb2 as _registry_pb2
from stepline.v1 import schedule_pb2 as _schedule_pb2
from stepline.v1 import step_attempt_pb2 as _step_attempt_pb2
from stepline.v1 import waits_pb2 as _waits_pb2
from stepline.v1 import workflow_run_pb2 as _workflow_run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StartWorkflowRequest(_message.Message):
    __slots__ = ("namespace_id", "workflow_name", "version", "task_queue", "input", "idempotency_key", "context", "deadline_at", "start_at", "retry_policy", "priority", "concurrency_key")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_AT_FIELD_NUMBER: _ClassVar[int]
    START_AT_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    workflow_name: str
    version: str
    task_queue: str
    input: _struct_pb2.Value
    idempotency_key: str
    context: _struct_pb2.Struct
    deadline_at: _timestamp_pb2.Timestamp
    start_at: _timestamp_pb2.Timestamp
    retry_policy: _common_pb2.RetryPolicy
    priority: int
    concurrency_key: str
    def __init__(self, namespace_id: _Optional[str] = ..., workflow_name: _Optional[str] = ..., version: _Optional[str] = ..., task_queue: _Optional[str] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., deadline_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retry_policy: _Optional[_Union[_common_pb2.RetryPolicy, _Mapping]] = ..., priority: _Optional[int] = ..., concurrency_key: _Optional[str] = ...) -> None: ...

class StartWorkflowResponse(_message.Message):
    __slots__ = ("run", "existing", "warnings")
    RUN_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    run: _workflow_run_pb2.WorkflowRun
    existing: bool
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run: _Optional[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]] = ..., existing: _Optional[bool] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class GetWorkflowRunRequest(_message.Message):
    __slots__ = ("namespace_id", "run_id")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    run_id: str
    def __init__(self, namespace_id: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class GetWorkflowRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _workflow_run_pb2.WorkflowRun
    def __init__(self, run: _Optional[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]] = ...) -> None: ...

class ListWorkflowRunsRequest(_message.Message):
    __slots__ = ("namespace_id", "page_size", "page_token", "statuses", "workflow_name", "task_queue", "created_after", "created_before", "replay_of_run_id", "parent_run_id")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    REPLAY_OF_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    page_size: int
    page_token: str
    statuses: _containers.RepeatedScalarFieldContainer[_workflow_run_pb2.WorkflowRunStatus]
    workflow_name: str
    task_queue: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    replay_of_run_id: str
    parent_run_id: str
    def __init__(self, namespace_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_workflow_run_pb2.WorkflowRunStatus, str]]] = ..., workflow_name: _Optional[str] = ..., task_queue: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replay_of_run_id: _Optional[str] = ..., parent_run_id: _Optional[str] = ...) -> None: ...

class ListWorkflowRunsResponse(_message.Message):
    __slots__ = ("workflow_runs", "next_page_token", "prev_page_token", "has_more")
    WORKFLOW_RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PREV_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    workflow_runs: _containers.RepeatedCompositeFieldContainer[_workflow_run_pb2.WorkflowRun]
    next_page_token: str
    prev_page_token: str
    has_more: bool
    def __init__(self, workflow_runs: _Optional[_Iterable[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., prev_page_token: _Optional[str] = ..., has_more: _Optional[bool] = ...) -> None: ...

class CancelWorkflowRunRequest(_message.Message):
    __slots__ = ("namespace_id", "run_id", "reason")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    run_id: str
    reason: str
    def __init__(self, namespace_id: _Optional[str] = ..., run_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelWorkflowRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _workflow_run_pb2.WorkflowRun
    def __init__(self, run: _Optional[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]] = ...) -> None: ...

class ListStepAttemptsRequest(_message.Message):
    __slots__ = ("namespace_id", "run_id", "page_size", "page_token")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    run_id: str
    page_size: int
    page_token: str
    def __init__(self, namespace_id: _Optional[str] = ..., run_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListStepAttemptsResponse(_message.Message):
    __slots__ = ("step_attempts", "next_page_token", "prev_page_token", "has_more")
    STEP_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PREV_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    step_attempts: _containers.RepeatedCompositeFieldContainer[_step_attempt_pb2.StepAttempt]
    next_page_token: str
    prev_page_token: str
    has_more: bool
    def __init__(self, step_attempts: _Optional[_Iterable[_Union[_step_attempt_pb2.StepAttempt, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., prev_page_token: _Optional[str] = ..., has_more: _Optional[bool] = ...) -> None: ...

class GetStepAttemptRequest(_message.Message):
    __slots__ = ("namespace_id", "run_id", "step_attempt_id")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    run_id: str
    step_attempt_id: str
    def __init__(self, namespace_id: _Optional[str] = ..., run_id: _Optional[str] = ..., step_attempt_id: _Optional[str] = ...) -> None: ...

class GetStepAttemptResponse(_message.Message):
    __slots__ = ("step_attempt",)
    STEP_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    step_attempt: _step_attempt_pb2.StepAttempt
    def __init__(self, step_attempt: _Optional[_Union[_step_attempt_pb2.StepAttempt, _Mapping]] = ...) -> None: ...

class ReplayWorkflowRunRequest(_message.Message):
    __slots__ = ("namespace_id", "run_id", "from_step_id", "input", "idempotency_key")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_STEP_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    run_id: str
    from_step_id: str
    input: _struct_pb2.Value
    idempotency_key: str
    def __init__(self, namespace_id: _Optional[str] = ..., run_id: _Optional[str] = ..., from_step_id: _Optional[str] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReplayWorkflowRunResponse(_message.Message):
    __slots__ = ("run", "existing")
    RUN_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    run: _workflow_run_pb2.WorkflowRun
    existing: bool
    def __init__(self, run: _Optional[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]] = ..., existing: _Optional[bool] = ...) -> None: ...

class BatchCancelWorkflowRunsRequest(_message.Message):
    __slots__ = ("namespace_id", "statuses", "workflow_name", "task_queue", "created_after", "created_before", "replay_of_run_id", "reason", "dry_run", "page_size", "page_token")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    REPLAY_OF_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    statuses: _containers.RepeatedScalarFieldContainer[_workflow_run_pb2.WorkflowRunStatus]
    workflow_name: str
    task_queue: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    replay_of_run_id: str
    reason: str
    dry_run: bool
    page_size: int
    page_token: str
    def __init__(self, namespace_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_workflow_run_pb2.WorkflowRunStatus, str]]] = ..., workflow_name: _Optional[str] = ..., task_queue: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replay_of_run_id: _Optional[str] = ..., reason: _Optional[str] = ..., dry_run: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class BatchCancelWorkflowRunsResponse(_message.Message):
    __slots__ = ("affected_count", "skipped_count", "run_ids", "next_page_token", "has_more")
    AFFECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_COUNT_FIELD_NUMBER: _ClassVar[int]
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    affected_count: int
    skipped_count: int
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    next_page_token: str
    has_more: bool
    def __init__(self, affected_count: _Optional[int] = ..., skipped_count: _Optional[int] = ..., run_ids: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ..., has_more: _Optional[bool] = ...) -> None: ...

class BatchReplayWorkflowRunsRequest(_message.Message):
    __slots__ = ("namespace_id", "statuses", "workflow_name", "task_queue", "created_after", "created_before", "replay_of_run_id", "from_step_id", "dry_run", "page_size", "page_token", "batch_id")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    REPLAY_OF_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_STEP_ID_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    statuses: _containers.RepeatedScalarFieldContainer[_workflow_run_pb2.WorkflowRunStatus]
    workflow_name: str
    task_queue: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    replay_of_run_id: str
    from_step_id: str
    dry_run: bool
    page_size: int
    page_token: str
    batch_id: str
    def __init__(self, namespace_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_workflow_run_pb2.WorkflowRunStatus, str]]] = ..., workflow_name: _Optional[str] = ..., task_queue: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replay_of_run_id: _Optional[str] = ..., from_step_id: _Optional[str] = ..., dry_run: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., batch_id: _Optional[str] = ...) -> None: ...

class BatchReplayWorkflowRunsResponse(_message.Message):
    __slots__ = ("affected_count", "skipped_count", "run_ids", "next_page_token", "has_more", "batch_id")
    AFFECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_COUNT_FIELD_NUMBER: _ClassVar[int]
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    affected_count: int
    skipped_count: int
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    next_page_token: str
    has_more: bool
    batch_id: str
    def __init__(self, affected_count: _Optional[int] = ..., skipped_count: _Optional[int] = ..., run_ids: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ..., has_more: _Optional[bool] = ..., batch_id: _Optional[str] = ...) -> None: ...

class SignalWorkflowRunRequest(_message.Message):
    __slots__ = ("namespace_id", "run_id", "signal_name", "payload", "idempotency_key")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_NAME_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    run_id: str
    signal_name: str
    payload: _struct_pb2.Value
    idempotency_key: str
    def __init__(self, namespace_id: _Optional[str] = ..., run_id: _Optional[str] = ..., signal_name: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class SignalWorkflowRunResponse(_message.Message):
    __slots__ = ("signal", "existing")
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    signal: _waits_pb2.Signal
    existing: bool
    def __init__(self, signal: _Optional[_Union[_waits_pb2.Signal, _Mapping]] = ..., existing: _Optional[bool] = ...) -> None: ...

class SendEventRequest(_message.Message):
    __slots__ = ("namespace_id", "event_name", "data", "idempotency_key")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    event_name: str
    data: _struct_pb2.Struct
    idempotency_key: str
    def __init__(self, namespace_id: _Optional[str] = ..., event_name: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class SendEventResponse(_message.Message):
    __slots__ = ("event", "existing", "started_run_ids", "resumed_run_ids")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    STARTED_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    RESUMED_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    event: _waits_pb2.Event
    existing: bool
    started_run_ids: _containers.RepeatedScalarFieldContainer[str]
    resumed_run_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, event: _Optional[_Union[_waits_pb2.Event, _Mapping]] = ..., existing: _Optional[bool] = ..., started_run_ids: _Optional[_Iterable[str]] = ..., resumed_run_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ("namespace_id", "event_id")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    event_id: str
    def __init__(self, namespace_id: _Optional[str] = ..., event_id: _Optional[str] = ...) -> None: ...

class GetEventResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _waits_pb2.Event
    def __init__(self, event: _Optional[_Union[_waits_pb2.Event, _Mapping]] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("namespace_id", "page_size", "page_token", "event_name", "received_after", "received_before")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AFTER_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    page_size: int
    page_token: str
    event_name: str
    received_after: _timestamp_pb2.Timestamp
    received_before: _timestamp_pb2.Timestamp
    def __init__(self, namespace_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., event_name: _Optional[str] = ..., received_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., received_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token", "prev_page_token", "has_more")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PREV_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_waits_pb2.Event]
    next_page_token: str
    prev_page_token: str
    has_more: bool
    def __init__(self, events: _Optional[_Iterable[_Union[_waits_pb2.Event, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., prev_page_token: _Optional[str] = ..., has_more: _Optional[bool] = ...) -> None: ...

class ListEventRunsRequest(_message.Message):
    __slots__ = ("namespace_id", "event_id", "page_size", "page_token")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    event_id: str
    page_size: int
    page_token: str
    def __init__(self, namespace_id: _Optional[str] = ..., event_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEventRunsResponse(_message.Message):
    __slots__ = ("workflow_runs", "started_run_ids", "resumed_run_ids", "next_page_token")
    WORKFLOW_RUNS_FIELD_NUMBER: _ClassVar[int]
    STARTED_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    RESUMED_RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    workflow_runs: _containers.RepeatedCompositeFieldContainer[_workflow_run_pb2.WorkflowRun]
    started_run_ids: _containers.RepeatedScalarFieldContainer[str]
    resumed_run_ids: _containers.RepeatedScalarFieldContainer[str]
    next_page_token: str
    def __init__(self, workflow_runs: _Optional[_Iterable[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]]] = ..., started_run_ids: _Optional[_Iterable[str]] = ..., resumed_run_ids: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
