import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from stepline.v1 import access_pb2 as _access_pb2
from stepline.v1 import common_pb2 as _common_pb2
from stepline.v1 import step_attempt_pb2 as _step_attempt_pb2
from stepline.v1 import waits_pb2 as _waits_pb2
from stepline.v1 import workflow_run_pb2 as _workflow_run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PollActivityRequest(_message.Message):
    __slots__ = ("namespace_id", "task_queue", "worker_id", "workflow_names", "max_runs", "wait")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAMES_FIELD_NUMBER: _ClassVar[int]
    MAX_RUNS_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    task_queue: str
    worker_id: str
    workflow_names: _containers.RepeatedScalarFieldContainer[str]
    max_runs: int
    wait: _duration_pb2.Duration
    def __init__(self, namespace_id: _Optional[str] = ..., task_queue: _Optional[str] = ..., worker_id: _Optional[str] = ..., workflow_names: _Optional[_Iterable[str]] = ..., max_runs: _Optional[int] = ..., wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class PollActivityResponse(_message.Message):
    __slots__ = ("tasks",)
    TASKS_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[RunTask]
    def __init__(self, tasks: _Optional[_Iterable[_Union[RunTask, _Mapping]]] = ...) -> None: ...

class RunTask(_message.Message):
    __slots__ = ("run", "lease", "lease_expires_at", "steps")
    RUN_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    run: _workflow_run_pb2.WorkflowRun
    lease: RunLease
    lease_expires_at: _timestamp_pb2.Timestamp
    steps: _containers.RepeatedCompositeFieldContainer[_step_attempt_pb2.StepAttempt]
    def __init__(self, run: _Optional[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]] = ..., lease: _Optional[_Union[RunLease, _Mapping]] = ..., lease_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., steps: _Optional[_Iterable[_Union[_step_attempt_pb2.StepAttempt, _Mapping]]] = ...) -> None: ...

class RunLease(_message.Message):
    __slots__ = ("namespace_id", "run_id", "lease_id", "worker_id")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    run_id: str
    lease_id: str
    worker_id: str
    def __init__(self, namespace_id: _Optional[str] = ..., run_id: _Optional[str] = ..., lease_id: _Optional[str] = ..., worker_id: _Optional[str] = ...) -> None: ...

class RecordHeartbeatRequest(_message.Message):
    __slots__ = ("lease",)
    LEASE_FIELD_NUMBER: _ClassVar[int]
    lease: RunLease
    def __init__(self, lease: _Optional[_Union[RunLease, _Mapping]] = ...) -> None: ...

class RecordHeartbeatResponse(_message.Message):
    __slots__ = ("lease_expires_at", "cancel_requested")
    LEASE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    lease_expires_at: _timestamp_pb2.Timestamp
    cancel_requested: bool
    def __init__(self, lease_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_requested: _Optional[bool] = ...) -> None: ...

class BeginStepRequest(_message.Message):
    __slots__ = ("lease", "step_id", "kind", "config", "context")
    LEASE_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    lease: RunLease
    step_id: str
    kind: _step_attempt_pb2.StepKind
    config: _struct_pb2.Value
    context: _struct_pb2.Struct
    def __init__(self, lease: _Optional[_Union[RunLease, _Mapping]] = ..., step_id: _Optional[str] = ..., kind: _Optional[_Union[_step_attempt_pb2.StepKind, str]] = ..., config: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class BeginStepResponse(_message.Message):
    __slots__ = ("step_attempt",)
    STEP_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    step_attempt: _step_attempt_pb2.StepAttempt
    def __init__(self, step_attempt: _Optional[_Union[_step_attempt_pb2.StepAttempt, _Mapping]] = ...) -> None: ...

class CompleteStepRequest(_message.Message):
    __slots__ = ("lease", "step_attempt_id", "step_id", "kind", "config", "context", "output")
    LEASE_FIELD_NUMBER: _ClassVar[int]
    STEP_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    lease: RunLease
    step_attempt_id: str
    step_id: str
    kind: _step_attempt_pb2.StepKind
    config: _struct_pb2.Value
    context: _struct_pb2.Struct
    output: _struct_pb2.Value
    def __init__(self, lease: _Optional[_Union[RunLease, _Mapping]] = ..., step_attempt_id: _Optional[str] = ..., step_id: _Optional[str] = ..., kind: _Optional[_Union[_step_attempt_pb2.StepKind, str]] = ..., config: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., output: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class CompleteStepResponse(_message.Message):
    __slots__ = ("step_attempt",)
    STEP_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    step_attempt: _step_attempt_pb2.StepAttempt
    def __init__(self, step_attempt: _Optional[_Union[_step_attempt_pb2.StepAttempt, _Mapping]] = ...) -> None: ...

class FailStepRequest(_message.Message):
    __slots__ = ("lease", "step_attempt_id", "step_id", "kind", "config", "context", "error")
    LEASE_FIELD_NUMBER: _ClassVar[int]
    STEP_ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    lease: RunLease
    step_attempt_id: str
    step_id: str
    kind: _step_attempt_pb2.StepKind
    config: _struct_pb2.Value
    context: _struct_pb2.Struct
    error: _common_pb2.Failure
    def __init__(self, lease: _Optional[_Union[RunLease, _Mapping]] = ..., step_attempt_id: _Optional[str] = ..., step_id: _Optional[str] = ..., kind: _Optional[_Union[_step_attempt_pb2.StepKind, str]] = ..., config: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ...) -> None: ...

class FailStepResponse(_message.Message):
    __slots__ = ("step_attempt", "run")
    STEP_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    step_attempt: _step_attempt_pb2.StepAttempt
    run: _workflow_run_pb2.WorkflowRun
    def __init__(self, step_attempt: _Optional[_Union[_step_attempt_pb2.StepAttempt, _Mapping]] = ..., run: _Optional[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]] = ...) -> None: ...

class ScheduleSleepRequest(_message.Message):
    __slots__ = ("lease", "step_id", "wake_up_at", "duration")
    LEASE_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    WAKE_UP_AT_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    lease: RunLease
    step_id: str
    wake_up_at: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    def __init__(self, lease: _Optional[_Union[RunLease, _Mapping]] = ..., step_id: _Optional[str] = ..., wake_up_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ScheduleSleepResponse(_message.Message):
    __slots__ = ("step_attempt", "run")
    STEP_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    step_attempt: _step_attempt_pb2.StepAttempt
    run: _workflow_run_pb2.WorkflowRun
    def __init__(self, step_attempt: _Optional[_Union[_step_attempt_pb2.StepAttempt, _Mapping]] = ..., run: _Optional[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]] = ...) -> None: ...

class RegisterWaitsRequest(_message.Message):
    __slots__ = ("lease", "waits")
    LEASE_FIELD_NUMBER: _ClassVar[int]
    WAITS_FIELD_NUMBER: _ClassVar[int]
    lease: RunLease
    waits: _containers.RepeatedCompositeFieldContainer[Wait]
    def __init__(self, lease: _Optional[_Union[RunLease, _Mapping]] = ..., waits: _Optional[_Iterable[_Union[Wait, _Mapping]]] = ...) -> None: ...

class Wait(_message.Message):
    __slots__ = ("step_id", "child", "signal", "event", "wake_up_at", "duration")
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    CHILD_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    WAKE_UP_AT_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    step_id: str
    child: _waits_pb2.ChildWait
    signal: _waits_pb2.SignalWait
    event: _waits_pb2.EventWait
    wake_up_at: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    def __init__(self, step_id: _Optional[str] = ..., child: _Optional[_Union[_waits_pb2.ChildWait, _Mapping]] = ..., signal: _Optional[_Union[_waits_pb2.SignalWait, _Mapping]] = ..., event: _Optional[_Union[_waits_pb2.EventWait, _Mapping]] = ..., wake_up_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RegisterWaitsResponse(_message.Message):
    __slots__ = ("step_attempts", "run")
    STEP_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    step_attempts: _containers.RepeatedCompositeFieldContainer[_step_attempt_pb2.StepAttempt]
    run: _workflow_run_pb2.WorkflowRun
    def __init__(self, step_attempts: _Optional[_Iterable[_Union[_step_attempt_pb2.StepAttempt, _Mapping]]] = ..., run: _Optional[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]] = ...) -> None: ...

class CompleteWorkflowRequest(_message.Message):
    __slots__ = ("lease", "output")
    LEASE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    lease: RunLease
    output: _struct_pb2.Value
    def __init__(self, lease: _Optional[_Union[RunLease, _Mapping]] = ..., output: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class CompleteWorkflowResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _workflow_run_pb2.WorkflowRun
    def __init__(self, run: _Optional[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]] = ...) -> None: ...

class FailWorkflowRequest(_message.Message):
    __slots__ = ("lease", "error")
    LEASE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    lease: RunLease
    error: _common_pb2.Failure
    def __init__(self, lease: _Optional[_Union[RunLease, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ...) -> None: ...

class FailWorkflowResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _workflow_run_pb2.WorkflowRun
    def __init__(self, run: _Optional[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]] = ...) -> None: ...

class ReleaseRunRequest(_message.Message):
    __slots__ = ("lease", "reason")
    LEASE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    lease: RunLease
    reason: str
    def __init__(self, lease: _Optional[_Union[RunLease, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ReleaseRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _workflow_run_pb2.WorkflowRun
    def __init__(self, run: _Optional[_Union[_workflow_run_pb2.WorkflowRun, _Mapping]] = ...) -> None: ...

class WorkStreamRequest(_message.Message):
    __slots__ = ("open", "run_credits", "calls", "draining")
    OPEN_FIELD_NUMBER: _ClassVar[int]
    RUN_CREDITS_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    open: WorkStreamOpen
    run_credits: int
    calls: _containers.RepeatedCompositeFieldContainer[WorkCall]
    draining: bool
    def __init__(self, open: _Optional[_Union[WorkStreamOpen, _Mapping]] = ..., run_credits: _Optional[int] = ..., calls: _Optional[_Iterable[_Union[WorkCall, _Mapping]]] = ..., draining: _Optional[bool] = ...) -> None: ...

class WorkStreamOpen(_message.Message):
    __slots__ = ("namespace_id", "task_queue", "worker_id", "workflow_names")
    NAMESPACE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAMES_FIELD_NUMBER: _ClassVar[int]
    namespace_id: str
    task_queue: str
    worker_id: str
    workflow_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, namespace_id: _Optional[str] = ..., task_queue: _Optional[str] = ..., worker_id: _Optional[str] = ..., workflow_names: _Optional[_Iterable[str]] = ...) -> None: ...

class WorkCall(_message.Message):
    __slots__ = ("call_id", "record_heartbeat", "begin_step", "complete_step", "fail_step", "schedule_sleep", "complete_workflow", "fail_workflow", "release_run", "register_waits")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    BEGIN_STEP_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_STEP_FIELD_NUMBER: _ClassVar[int]
    FAIL_STEP_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_SLEEP_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    FAIL_WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    RELEASE_RUN_FIELD_NUMBER: _ClassVar[int]
    REGISTER_WAITS_FIELD_NUMBER: _ClassVar[int]
    call_id: int
    record_heartbeat: RecordHeartbeatRequest
    begin_step: BeginStepRequest
    complete_step: CompleteStepRequest
    fail_step: FailStepRequest
    schedule_sleep: ScheduleSleepRequest
    complete_workflow: CompleteWorkflowRequest
    fail_workflow: FailWorkflowRequest
    release_run: ReleaseRunRequest
    register_waits: RegisterWaitsRequest
    def __init__(self, call_id: _Optional[int] = ..., record_heartbeat: _Optional[_Union[RecordHeartbeatRequest, _Mapping]] = ..., begin_step: _Optional[_Union[BeginStepRequest, _Mapping]] = ..., complete_step: _Optional[_Union[CompleteStepRequest, _Mapping]] = ..., fail_step: _Optional[_Union[FailStepRequest, _Mapping]] = ..., schedule_sleep: _Optional[_Union[ScheduleSleepRequest, _Mapping]] = ..., complete_workflow: _Optional[_Union[CompleteWorkflowRequest, _Mapping]] = ..., fail_workflow: _Optional[_Union[FailWorkflowRequest, _Mapping]] = ..., release_run: _Optional[_Union[ReleaseRunRequest, _Mapping]] = ..., register_waits: _Optional[_Union[RegisterWaitsRequest, _Mapping]] = ...) -> None: ...

class WorkStreamResponse(_message.Message):
    __slots__ = ("tasks", "results")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[RunTask]
    results: _containers.RepeatedCompositeFieldContainer[WorkResult]
    def __init__(self, tasks: _Optional[_Iterable[_Union[RunTask, _Mapping]]] = ..., results: _Optional[_Iterable[_Union[WorkResult, _Mapping]]] = ...) -> None: ...

class WorkResult(_message.Message):
    __slots__ = ("call_id", "record_heartbeat", "begin_step", "complete_step", "fail_step", "schedule_sleep", "complete_workflow", "fail_workflow", "release_run", "register_waits", "error")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    BEGIN_STEP_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_STEP_FIELD_NUMBER: _ClassVar[int]
    FAIL_STEP_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_SLEEP_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    FAIL_WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    RELEASE_RUN_FIELD_NUMBER: _ClassVar[int]
    REGISTER_WAITS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    call_id: int
    record_heartbeat: RecordHeartbeatResponse
    begin_step: BeginStepResponse
    complete_step: CompleteStepResponse
    fail_step: FailStepResponse
    schedule_sleep: ScheduleSleepResponse
    complete_workflow: CompleteWorkflowResponse
    fail_workflow: FailWorkflowResponse
    release_run: ReleaseRunResponse
    register_waits: RegisterWaitsResponse
    error: _status_pb2.Status
    def __init__(self, call_id: _Optional[int] = ..., record_heartbeat: _Optional[_Union[RecordHeartbeatResponse, _Mapping]] = ..., begin_step: _Optional[_Union[BeginStepResponse, _Mapping]] = ..., complete_step: _Optional[_Union[CompleteStepResponse, _Mapping]] = ..., fail_step: _Optional[_Union[FailStepResponse, _Mapping]] = ..., schedule_sleep: _Optional[_Union[ScheduleSleepResponse, _Mapping]] = ..., complete_workflow: _Optional[_Union[CompleteWorkflowResponse, _Mapping]] = ..., fail_workflow: _Optional[_Union[FailWorkflowResponse, _Mapping]] = ..., release_run: _Optional[_Union[ReleaseRunResponse, _Mapping]] = ..., register_waits: _Optional[_Union[RegisterWaitsResponse, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...
