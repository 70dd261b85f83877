"""The one place where storage records become protobuf messages and back.

Payloads travel as google.protobuf.Value on the wire and as JSON text in storage;
these converters are hand-written because they are on every hot path and run
faster than json_format (measured: ~9 us vs ~21 us per small payload).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2

from stepline.v1 import (
    common_pb2,
    schedule_pb2,
    step_attempt_pb2,
    waits_pb2,
    worker_service_pb2,
    workflow_run_pb2,
)
from storage.records import (
    ClaimedRun,
    Event,
    Failure,
    Json,
    Overlap,
    RetryPolicy,
    Run,
    RunStatus,
    Schedule,
    Signal,
    StepAttempt,
    StepKind,
    StepStatus,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COMPACT = (",", ":")


class NotJsonError(ValueError):
    """A Value holds something JSON cannot carry (NaN or an infinity), or nests too deep."""


# Arrays and objects inside one payload. Each level costs protobuf two or three message
# levels (Value, ListValue or Struct and its map entry), and a reply wraps a payload in a
# few more: deeper payloads would be stored, then fail to decode (upb stops at 100).
MAX_PAYLOAD_DEPTH = 32


# --- payloads ---------------------------------------------------------------------------


def value_to_python(value: struct_pb2.Value, depth: int = 0) -> Any:
    kind = value.WhichOneof("kind")
    if kind in ("struct_value", "list_value"):
        if depth >= MAX_PAYLOAD_DEPTH:
            raise NotJsonError(f"arrays and objects must nest at most {MAX_PAYLOAD_DEPTH} deep")
        if kind == "struct_value":
            fields = value.struct_value.fields
            return {k: value_to_python(v, depth + 1) for k, v in fields.items()}
        return [value_to_python(v, depth + 1) for v in value.list_value.values]
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        if not math.isfinite(number):
            raise NotJsonError("numbers must be finite")
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "bool_value":
        return value.bool_value
    return None  # null_value, or a Value with nothing set


def python_to_value(obj: Any, out: struct_pb2.Value) -> None:
    if obj is None:
        out.null_value = struct_pb2.NULL_VALUE
    elif obj is True or obj is False:
        out.bool_value = obj
    elif isinstance(obj, int | float):
        out.number_value = obj
    elif isinstance(obj, str):
        out.string_value = obj
    elif isinstance(obj, list):
        items = out.list_value
        items.SetInParent()
        for item in obj:
            python_to_value(item, items.values.add())
    else:
        fields = out.struct_value
        fields.SetInParent()
        for key, item in obj.items():
            python_to_value(item, fields.fields[key])


def json_text(obj: Any) -> Json:
    return json.dumps(obj, separators=_COMPACT, ensure_ascii=False)


def value_to_json(value: struct_pb2.Value) -> Json:
    return json_text(value_to_python(value))


def struct_to_python(struct: struct_pb2.Struct) -> dict[str, Any]:
    return {k: value_to_python(v, 1) for k, v in struct.fields.items()}


def fill_value(out: struct_pb2.Value, text: Json | None) -> None:
    if text is not None:
        python_to_value(json.loads(text), out)


def fill_struct(out: struct_pb2.Struct, text: Json | None) -> None:
    if text is None:
        return
    out.SetInParent()
    for key, item in json.loads(text).items():
        python_to_value(item, out.fields[key])


# --- times ------------------------------------------------------------------------------


def timestamp(dt: datetime) -> timestamp_pb2.Timestamp:
    delta = dt - EPOCH
    return timestamp_pb2.Timestamp(
        seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000
    )


def to_datetime(ts: timestamp_pb2.Timestamp) -> datetime:
    return EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def _set_time(field: timestamp_pb2.Timestamp, dt: datetime | None) -> None:
    if dt is not None:
        delta = dt - EPOCH
        field.seconds = delta.days * 86_400 + delta.seconds
        field.nanos = delta.microseconds * 1000


# --- records ----------------------------------------------------------------------------

RUN_STATUS = {
    RunStatus.PENDING: workflow_run_pb2.WORKFLOW_RUN_STATUS_PENDING,
    RunStatus.RUNNING: workflow_run_pb2.WORKFLOW_RUN_STATUS_RUNNING,
    RunStatus.SLEEPING: workflow_run_pb2.WORKFLOW_RUN_STATUS_SLEEPING,
    RunStatus.WAITING: workflow_run_pb2.WORKFLOW_RUN_STATUS_WAITING,
    RunStatus.COMPLETED: workflow_run_pb2.WORKFLOW_RUN_STATUS_COMPLETED,
    RunStatus.FAILED: workflow_run_pb2.WORKFLOW_RUN_STATUS_FAILED,
    RunStatus.CANCELED: workflow_run_pb2.WORKFLOW_RUN_STATUS_CANCELED,
}
RUN_STATUS_FROM_PROTO = {v: k for k, v in RUN_STATUS.items()}

STEP_KIND = {
    StepKind.FUNCTION: step_attempt_pb2.STEP_KIND_FUNCTION,
    StepKind.SLEEP: step_attempt_pb2.STEP_KIND_SLEEP,
    StepKind.CHILD: step_attempt_pb2.STEP_KIND_CHILD,
    StepKind.SIGNAL: step_attempt_pb2.STEP_KIND_SIGNAL,
    StepKind.EVENT: step_attempt_pb2.STEP_KIND_EVENT,
}

STEP_STATUS = {
    StepStatus.RUNNING: step_attempt_pb2.STEP_ATTEMPT_STATUS_RUNNING,
    StepStatus.COMPLETED: step_attempt_pb2.STEP_ATTEMPT_STATUS_COMPLETED,
    StepStatus.FAILED: step_attempt_pb2.STEP_ATTEMPT_STATUS_FAILED,
}


def failure_to_proto(failure: Failure, out: common_pb2.Failure) -> None:
    out.type = failure.type
    out.message = failure.message
    out.stack_trace = failure.stack_trace
    out.non_retryable = failure.non_retryable
    fill_value(out.details, failure.details)


def retry_policy_to_proto(policy: RetryPolicy, out: common_pb2.RetryPolicy) -> None:
    out.initial_interval.FromTimedelta(policy.initial_interval)
    out.backoff_coefficient = policy.backoff_coefficient
    out.maximum_interval.FromTimedelta(policy.maximum_interval)
    out.maximum_attempts = policy.maximum_attempts


def run_to_proto(run: Run) -> workflow_run_pb2.WorkflowRun:
    msg = workflow_run_pb2.WorkflowRun(
        run_id=run.run_id,
        namespace_id=run.namespace_id,
        workflow_name=run.workflow_name,
        version=run.version,
        status=RUN_STATUS[run.status],
        task_queue=run.task_queue,
        idempotency_key=run.idempotency_key or "",
        worker_id=run.worker_id or "",
        attempt=run.attempt,
        parent_run_id=run.parent_run_id or "",
        parent_step_attempt_id=run.parent_step_attempt_id or "",
        replay_of_run_id=run.replay_of_run_id or "",
        replay_count=run.replay_count,
        crash_count=run.crash_count,
        priority=run.priority,
        concurrency_key=run.concurrency_key or "",
    )
    _set_time(msg.created_at, run.created_at)
    _set_time(msg.updated_at, run.updated_at)
    fill_value(msg.input, run.input)
    fill_value(msg.output, run.output)
    fill_struct(msg.context, run.context)
    if run.error is not None:
        failure_to_proto(run.error, msg.error)
    retry_policy_to_proto(run.retry_policy, msg.retry_policy)
    _set_time(msg.deadline_at, run.deadline_at)
    _set_time(msg.started_at, run.started_at)
    _set_time(msg.finished_at, run.finished_at)
    _set_time(msg.wake_up_at, run.wake_up_at)
    _set_time(msg.available_at, run.available_at)
    return msg


def step_to_proto(step: StepAttempt) -> step_attempt_pb2.StepAttempt:
    msg = step_attempt_pb2.StepAttempt(
        step_attempt_id=step.step_attempt_id,
        namespace_id=step.namespace_id,
        workflow_run_id=step.workflow_run_id,
        step_id=step.step_id,
        kind=STEP_KIND[step.kind],
        status=STEP_STATUS[step.status],
        attempt=step.attempt,
        child_workflow_run_id=step.child_workflow_run_id or "",
        worker_id=step.worker_id or "",
        copied_from_step_attempt_id=step.copied_from_step_attempt_id or "",
        wait_name=step.wait_name or "",
    )
    fill_struct(msg.wait_match, step.wait_match)
    _set_time(msg.created_at, step.created_at)
    _set_time(msg.updated_at, step.updated_at)
    fill_value(msg.config, step.config)
    fill_struct(msg.context, step.context)
    fill_value(msg.output, step.output)
    if step.error is not None:
        failure_to_proto(step.error, msg.error)
    _set_time(msg.started_at, step.started_at)
    _set_time(msg.finished_at, step.finished_at)
    _set_time(msg.wake_up_at, step.wake_up_at)
    return msg


def task_to_proto(claimed: ClaimedRun) -> worker_service_pb2.RunTask:
    """A claimed run as PollActivity and the worker stream hand it out."""
    run = claimed.run
    lease = worker_service_pb2.RunLease(
        namespace_id=run.namespace_id,
        run_id=run.run_id,
        lease_id=claimed.lease_id,
        worker_id=run.worker_id or "",
    )
    return worker_service_pb2.RunTask(
        run=run_to_proto(run),
        lease=lease,
        lease_expires_at=timestamp(claimed.lease_expires_at),
        steps=[step_to_proto(step) for step in claimed.steps],
    )


def signal_to_proto(signal: Signal) -> waits_pb2.Signal:
    msg = waits_pb2.Signal(
        signal_id=signal.signal_id,
        namespace_id=signal.namespace_id,
        run_id=signal.run_id,
        signal_name=signal.signal_name,
        idempotency_key=signal.idempotency_key or "",
        consumed_by_step_attempt_id=signal.consumed_by_step_attempt_id or "",
    )
    fill_value(msg.payload, signal.payload)
    _set_time(msg.created_at, signal.created_at)
    _set_time(msg.consumed_at, signal.consumed_at)
    return msg


def event_to_proto(event: Event) -> waits_pb2.Event:
    msg = waits_pb2.Event(
        event_id=event.event_id,
        namespace_id=event.namespace_id,
        event_name=event.event_name,
        idempotency_key=event.idempotency_key or "",
    )
    fill_struct(msg.data, event.data)
    _set_time(msg.received_at, event.received_at)
    return msg


OVERLAP = {
    Overlap.SKIP: schedule_pb2.SCHEDULE_OVERLAP_SKIP,
    Overlap.BUFFER_ONE: schedule_pb2.SCHEDULE_OVERLAP_BUFFER_ONE,
    Overlap.ALLOW_ALL: schedule_pb2.SCHEDULE_OVERLAP_ALLOW_ALL,
}
OVERLAP_FROM_PROTO = {v: k for k, v in OVERLAP.items()}


def schedule_to_proto(schedule: Schedule) -> schedule_pb2.Schedule:
    msg = schedule_pb2.Schedule(
        schedule_id=schedule.schedule_id,
        namespace_id=schedule.namespace_id,
        cron=schedule.cron or "",
        timezone=schedule.timezone,
        workflow_name=schedule.workflow_name,
        version=schedule.version,
        task_queue=schedule.task_queue,
        overlap=OVERLAP[schedule.overlap],
        paused=schedule.paused,
        last_run_id=schedule.last_run_id or "",
        missed_fires=schedule.missed_fires,
        skipped_fires=schedule.skipped_fires,
        priority=schedule.priority,
    )
    if schedule.interval is not None:
        msg.interval.FromTimedelta(schedule.interval)
    msg.catchup_window.FromTimedelta(schedule.catchup_window)
    fill_value(msg.input, schedule.input)
    _set_time(msg.next_fire_at, schedule.next_fire_at)
    _set_time(msg.last_fire_at, schedule.last_fire_at)
    _set_time(msg.buffered_fire_at, schedule.buffered_fire_at)
    _set_time(msg.created_at, schedule.created_at)
    _set_time(msg.updated_at, schedule.updated_at)
    return msg
