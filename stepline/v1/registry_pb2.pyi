import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from stepline.v1 import common_pb2 as _common_pb2
from stepline.v1 import workflow_run_pb2 as _workflow_run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PoisonAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POISON_ACTION_UNSPECIFIED: _ClassVar[PoisonAction]
    POISON_ACTION_FAIL: _ClassVar[PoisonAction]
    POISON_ACTION_PAUSE: _ClassVar[PoisonAction]
POISON_ACTION_UNSPECIFIED: PoisonAction
POISON_ACTION_FAIL: PoisonAction
POISON_ACTION_PAUSE: PoisonAction

class WorkflowDefinition(_message.Message):
    __slots__ = ("workflow_name", "version", "input_schema", "retry_policy", "max_concurrency", "max_concurrency_per_key", "triggers", "priority", "max_crashes", "on_poison", "schedule_cron", "schedule_timezone")
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_PER_KEY_FIELD_NUMBER: _ClassVar[int]
    TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    MAX_CRASHES_FIELD_NUMBER: _ClassVar[int]
    ON_POISON_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_CRON_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    workflow_name: str
    version: str
    input_schema: _struct_pb2.Struct
    retry_policy: _common_pb2.RetryPolicy
    max_concurrency: int
    max_concurrency_per_key: int
    triggers: _containers.RepeatedCompositeFieldContainer[EventTrigger]
    priority: int
    max_crashes: int
    on_poison: PoisonAction
    schedule_cron: str
    schedule_timezone: str
    def __init__(self, workflow_name: _Optional[str] = ..., version: _Optional[str] = ..., input_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., retry_policy: _Optional[_Union[_common_pb2.RetryPolicy, _Mapping]] = ..., max_concurrency: _Optional[int] = ..., max_concurrency_per_key: _Optional[int] = ..., triggers: _Optional[_Iterable[_Union[EventTrigger, _Mapping]]] = ..., priority: _Optional[int] = ..., max_crashes: _Optional[int] = ..., on_poison: _Optional[_Union[PoisonAction, str]] = ..., schedule_cron: _Optional[str] = ..., schedule_timezone: _Optional[str] = ...) -> None: ...

class EventTrigger(_message.Message):
    __slots__ = ("event_name", "match")
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    event_name: str
    match: _struct_pb2.Struct
    def __init__(self, event_name: _Optional[str] = ..., match: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class WorkflowVersion(_message.Message):
    __slots__ = ("version", "input_schema", "triggers", "max_concurrency", "max_concurrency_per_key", "retry_policy", "workers_online", "run_counts", "registered_at", "last_seen_at", "priority", "max_crashes", "on_poison")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_PER_KEY_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    WORKERS_ONLINE_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNTS_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_AT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    MAX_CRASHES_FIELD_NUMBER: _ClassVar[int]
    ON_POISON_FIELD_NUMBER: _ClassVar[int]
    version: str
    input_schema: _struct_pb2.Struct
    triggers: _containers.RepeatedCompositeFieldContainer[EventTrigger]
    max_concurrency: int
    max_concurrency_per_key: int
    retry_policy: _common_pb2.RetryPolicy
    workers_online: int
    run_counts: _containers.RepeatedCompositeFieldContainer[RunCount]
    registered_at: _timestamp_pb2.Timestamp
    last_seen_at: _timestamp_pb2.Timestamp
    priority: int
    max_crashes: int
    on_poison: PoisonAction
    def __init__(self, version: _Optional[str] = ..., input_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., triggers: _Optional[_Iterable[_Union[EventTrigger, _Mapping]]] = ..., max_concurrency: _Optional[int] = ..., max_concurrency_per_key: _Optional[int] = ..., retry_policy: _Optional[_Union[_common_pb2.RetryPolicy, _Mapping]] = ..., workers_online: _Optional[int] = ..., run_counts: _Optional[_Iterable[_Union[RunCount, _Mapping]]] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., priority: _Optional[int] = ..., max_crashes: _Optional[int] = ..., on_poison: _Optional[_Union[PoisonAction, str]] = ...) -> None: ...

class RunCount(_message.Message):
    __slots__ = ("status", "count")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    status: _workflow_run_pb2.WorkflowRunStatus
    count: int
    def __init__(self, status: _Optional[_Union[_workflow_run_pb2.WorkflowRunStatus, str]] = ..., count: _Optional[int] = ...) -> None: ...

class Workflow(_message.Message):
    __slots__ = ("workflow_name", "versions", "paused", "input_schema", "triggers", "max_concurrency", "max_concurrency_per_key", "run_counts", "last_seen_at", "paused_reason", "paused_at", "workers_online", "max_crashes", "on_poison")
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_PER_KEY_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNTS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_AT_FIELD_NUMBER: _ClassVar[int]
    PAUSED_REASON_FIELD_NUMBER: _ClassVar[int]
    PAUSED_AT_FIELD_NUMBER: _ClassVar[int]
    WORKERS_ONLINE_FIELD_NUMBER: _ClassVar[int]
    MAX_CRASHES_FIELD_NUMBER: _ClassVar[int]
    ON_POISON_FIELD_NUMBER: _ClassVar[int]
    workflow_name: str
    versions: _containers.RepeatedCompositeFieldContainer[WorkflowVersion]
    paused: bool
    input_schema: _struct_pb2.Struct
    triggers: _containers.RepeatedCompositeFieldContainer[EventTrigger]
    max_concurrency: int
    max_concurrency_per_key: int
    run_counts: _containers.RepeatedCompositeFieldContainer[RunCount]
    last_seen_at: _timestamp_pb2.Timestamp
    paused_reason: str
    paused_at: _timestamp_pb2.Timestamp
    workers_online: int
    max_crashes: int
    on_poison: PoisonAction
    def __init__(self, workflow_name: _Optional[str] = ..., versions: _Optional[_Iterable[_Union[WorkflowVersion, _Mapping]]] = ..., paused: _Optional[bool] = ..., input_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., triggers: _Optional[_Iterable[_Union[EventTrigger, _Mapping]]] = ..., max_concurrency: _Optional[int] = ..., max_concurrency_per_key: _Optional[int] = ..., run_counts: _Optional[_Iterable[_Union[RunCount, _Mapping]]] = ..., last_seen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., paused_reason: _Optional[str] = ..., paused_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., workers_online: _Optional[int] = ..., max_crashes: _Optional[int] = ..., on_poison: _Optional[_Union[PoisonAction, str]] = ...) -> None: ...

class WorkerWorkflow(_message.Message):
    __slots__ = ("workflow_name", "version")
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    workflow_name: str
    version: str
    def __init__(self, workflow_name: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class Worker(_message.Message):
    __slots__ = ("worker_id", "task_queue", "workflows", "last_seen_at", "active_runs", "online", "registered_at")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOWS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_AT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_RUNS_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    task_queue: str
    workflows: _containers.RepeatedCompositeFieldContainer[WorkerWorkflow]
    last_seen_at: _timestamp_pb2.Timestamp
    active_runs: int
    online: bool
    registered_at: _timestamp_pb2.Timestamp
    def __init__(self, worker_id: _Optional[str] = ..., task_queue: _Optional[str] = ..., workflows: _Optional[_Iterable[_Union[WorkerWorkflow, _Mapping]]] = ..., last_seen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., active_runs: _Optional[int] = ..., online: _Optional[bool] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RegisterWorkerRequest(_message.Message):
    __slots__ = ("namespace_id", "worker_id", "task_queue", "workflows")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOWS_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    worker_id: str
    task_queue: str
    workflows: _containers.RepeatedCompositeFieldContainer[WorkflowDefinition]
    def __init__(self, namespace_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., task_queue: _Optional[str] = ..., workflows: _Optional[_Iterable[_Union[WorkflowDefinition, _Mapping]]] = ...) -> None: ...

class RegisterWorkerResponse(_message.Message):
    __slots__ = ("worker",)
    WORKER_FIELD_NUMBER: _ClassVar[int]
    worker: Worker
    def __init__(self, worker: _Optional[_Union[Worker, _Mapping]] = ...) -> None: ...

class ListWorkflowsRequest(_message.Message):
    __slots__ = ("namespace_id",)
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    def __init__(self, namespace_id: _Optional[str] = ...) -> None: ...

class ListWorkflowsResponse(_message.Message):
    __slots__ = ("workflows",)
    WORKFLOWS_FIELD_NUMBER: _ClassVar[int]
    workflows: _containers.RepeatedCompositeFieldContainer[Workflow]
    def __init__(self, workflows: _Optional[_Iterable[_Union[Workflow, _Mapping]]] = ...) -> None: ...

class GetWorkflowRequest(_message.Message):
    __slots__ = ("namespace_id", "workflow_name")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    workflow_name: str
    def __init__(self, namespace_id: _Optional[str] = ..., workflow_name: _Optional[str] = ...) -> None: ...

class GetWorkflowResponse(_message.Message):
    __slots__ = ("workflow",)
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    workflow: Workflow
    def __init__(self, workflow: _Optional[_Union[Workflow, _Mapping]] = ...) -> None: ...

class PauseWorkflowRequest(_message.Message):
    __slots__ = ("namespace_id", "workflow_name", "reason")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    workflow_name: str
    reason: str
    def __init__(self, namespace_id: _Optional[str] = ..., workflow_name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PauseWorkflowResponse(_message.Message):
    __slots__ = ("workflow",)
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    workflow: Workflow
    def __init__(self, workflow: _Optional[_Union[Workflow, _Mapping]] = ...) -> None: ...

class ResumeWorkflowRequest(_message.Message):
    __slots__ = ("namespace_id", "workflow_name")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAME_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    workflow_name: str
    def __init__(self, namespace_id: _Optional[str] = ..., workflow_name: _Optional[str] = ...) -> None: ...

class ResumeWorkflowResponse(_message.Message):
    __slots__ = ("workflow",)
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    workflow: Workflow
    def __init__(self, workflow: _Optional[_Union[Workflow, _Mapping]] = ...) -> None: ...

class ListWorkersRequest(_message.Message):
    __slots__ = ("namespace_id", "task_queue")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    task_queue: str
    def __init__(self, namespace_id: _Optional[str] = ..., task_queue: _Optional[str] = ...) -> None: ...

class ListWorkersResponse(_message.Message):
    __slots__ = ("workers",)
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    workers: _containers.RepeatedCompositeFieldContainer[Worker]
    def __init__(self, workers: _Optional[_Iterable[_Union[Worker, _Mapping]]] = ...) -> None: ...
