"""Registry records to protobuf messages and RegisterWorker's request to records."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from google.protobuf import json_format

from services import convert, schedule_times
from services import validation as v
from services.errors import ApiError, invalid
from services.input_schemas import check_schema
from stepline.v1 import common_pb2
from stepline.v1 import registry_pb2 as pb
from storage.records import Overlap, ScheduleCreateParams
from storage.registry import (
    PoisonAction,
    RunCounts,
    Worker,
    Workflow,
    WorkflowDefinition,
    WorkflowVersion,
)

_MAX_WORKFLOWS = 1000


# --- records to messages ----------------------------------------------------------------


def workflow_to_proto(workflow: Workflow) -> pb.Workflow:
    out = pb.Workflow(
        workflow_name=workflow.workflow_name,
        versions=[_version_to_proto(version) for version in workflow.versions],
        paused=workflow.paused,
        paused_reason=workflow.paused_reason,
        run_counts=_counts(workflow.run_counts),
        workers_online=workflow.workers_online,
    )
    if workflow.paused_at is not None:
        out.paused_at.CopyFrom(convert.timestamp(workflow.paused_at))
    if workflow.last_seen_at is not None:
        out.last_seen_at.CopyFrom(convert.timestamp(workflow.last_seen_at))
    newest = workflow.newest
    if newest is not None:
        convert.fill_struct(out.input_schema, newest.input_schema)
        out.triggers.extend(_triggers(newest.triggers))
        if newest.max_crashes is not None:
            out.max_crashes = newest.max_crashes
        out.on_poison = _POISON_TO_PROTO[newest.on_poison]
    out.max_concurrency = workflow.max_concurrency
    out.max_concurrency_per_key = workflow.max_concurrency_per_key
    return out


def _version_to_proto(version: WorkflowVersion) -> pb.WorkflowVersion:
    out = pb.WorkflowVersion(
        version=version.version,
        triggers=_triggers(version.triggers),
        max_concurrency=version.max_concurrency,
        max_concurrency_per_key=version.max_concurrency_per_key,
        priority=version.priority,
        workers_online=version.workers_online,
        run_counts=_counts(version.run_counts),
        registered_at=convert.timestamp(version.registered_at),
    )
    convert.fill_struct(out.input_schema, version.input_schema)
    if version.max_crashes is not None:
        out.max_crashes = version.max_crashes
    out.on_poison = _POISON_TO_PROTO[version.on_poison]
    if version.retry_policy is not None:
        json_format.Parse(version.retry_policy, out.retry_policy)
    if version.last_seen_at is not None:
        out.last_seen_at.CopyFrom(convert.timestamp(version.last_seen_at))
    return out


def _triggers(text: str) -> list[pb.EventTrigger]:
    triggers = []
    for item in json.loads(text):
        trigger = pb.EventTrigger(event_name=item["event_name"])
        if item.get("match") is not None:
            convert.fill_struct(trigger.match, convert.json_text(item["match"]))
        triggers.append(trigger)
    return triggers


def _counts(counts: RunCounts) -> list[pb.RunCount]:
    return [
        pb.RunCount(
            status=f"WORKFLOW_RUN_STATUS_{status.value}",
            count=count,
        )
        for status, count in counts
    ]


def worker_to_proto(worker: Worker) -> pb.Worker:
    return pb.Worker(
        worker_id=worker.worker_id,
        task_queue=worker.task_queue,
        workflows=[
            pb.WorkerWorkflow(workflow_name=w.workflow_name, version=w.version)
            for w in worker.workflows
        ],
        last_seen_at=convert.timestamp(worker.last_seen_at),
        active_runs=worker.active_runs,
        online=worker.online,
        registered_at=convert.timestamp(worker.registered_at),
    )


# --- RegisterWorker's request -----------------------------------------------------------


def schedules(
    request: pb.RegisterWorkerRequest, task_queue: str, namespace_id: str
) -> tuple[ScheduleCreateParams, ...]:
    """The schedules the request's definitions keep (schedule_cron), validated: each
    "workflow:<name>", firing runs of the worker's queue with no input and no version
    (as any schedule's run without a version, it goes to any worker serving the workflow)."""
    out = []
    for i, definition in enumerate(request.workflows):
        if not definition.schedule_cron.strip():
            if definition.schedule_timezone:
                raise invalid(f"workflows[{i}].schedule_timezone", "needs a schedule_cron")
            continue
        timing = _schedule_timing(definition, f"workflows[{i}]")
        out.append(
            ScheduleCreateParams(
                namespace_id=namespace_id,
                schedule_id=f"workflow:{definition.workflow_name}",
                cron=timing.cron,
                interval=None,
                timezone=timing.timezone,
                workflow_name=definition.workflow_name,
                version="",
                task_queue=task_queue,
                input=None,
                priority=v.priority(0),
                overlap=Overlap.SKIP,
                catchup_window=schedule_times.DEFAULT_CATCHUP_WINDOW,
                paused=False,
                next_fire_at=timing.next_after(datetime.now(UTC)),
            )
        )
    return tuple(out)


def _schedule_timing(definition: pb.WorkflowDefinition, field: str) -> schedule_times.Timing:
    """The definition's cron and time zone, refused under the definition's field names."""
    try:
        return schedule_times.timing(
            definition.schedule_cron.strip(),
            None,
            v.text(definition.schedule_timezone, f"{field}.schedule_timezone"),
        )
    except ApiError as error:
        bad = "schedule_timezone" if error.field == "timezone" else "schedule_cron"
        raise invalid(f"{field}.{bad}", error.message.partition(": ")[2]) from None


def definitions(request: pb.RegisterWorkerRequest) -> tuple[WorkflowDefinition, ...]:
    """The request's workflows, validated: at most one version of each name."""
    if len(request.workflows) > _MAX_WORKFLOWS:
        raise invalid("workflows", f"must hold at most {_MAX_WORKFLOWS} workflows")
    seen: set[str] = set()
    out = []
    for i, definition in enumerate(request.workflows):
        field = f"workflows[{i}]"
        name = v.name(definition.workflow_name, f"{field}.workflow_name")
        if name in seen:
            raise invalid(f"{field}.workflow_name", "is registered twice; one version a worker")
        seen.add(name)
        out.append(_definition(definition, field, name))
    return tuple(out)


def _definition(definition: pb.WorkflowDefinition, field: str, name: str) -> WorkflowDefinition:
    schema = None
    if definition.HasField("input_schema"):
        python = convert.struct_to_python(definition.input_schema)
        check_schema(python, f"{field}.input_schema")
        schema = convert.json_text(python)
    for number, value in (
        ("max_concurrency", definition.max_concurrency),
        ("max_concurrency_per_key", definition.max_concurrency_per_key),
        ("max_crashes", definition.max_crashes),
    ):
        if value < 0:
            raise invalid(f"{field}.{number}", "must be 0 (no limit) or more")
    if definition.priority:  # 0: none of its own, the server's default
        v.priority(definition.priority, f"{field}.priority")
    return WorkflowDefinition(
        workflow_name=name,
        version=v.text(definition.version, f"{field}.version"),
        input_schema=schema,
        triggers=_triggers_json(definition, field),
        retry_policy=_retry_policy_json(definition.retry_policy)
        if definition.HasField("retry_policy")
        else None,
        max_concurrency=definition.max_concurrency,
        max_concurrency_per_key=definition.max_concurrency_per_key,
        priority=definition.priority,
        max_crashes=definition.max_crashes if definition.HasField("max_crashes") else None,
        on_poison=_on_poison(definition.on_poison, f"{field}.on_poison"),
    )


_POISON_TO_PROTO = {
    PoisonAction.FAIL: pb.POISON_ACTION_FAIL,
    PoisonAction.PAUSE: pb.POISON_ACTION_PAUSE,
}
_POISON_FROM_PROTO = {value: action for action, value in _POISON_TO_PROTO.items()}


def _on_poison(value: pb.PoisonAction, field: str) -> PoisonAction:
    if value == pb.POISON_ACTION_UNSPECIFIED:
        return PoisonAction.FAIL
    if value not in _POISON_FROM_PROTO:
        raise invalid(field, "must be POISON_ACTION_FAIL or POISON_ACTION_PAUSE")
    return _POISON_FROM_PROTO[value]


def _triggers_json(definition: pb.WorkflowDefinition, field: str) -> str:
    triggers = []
    for i, trigger in enumerate(definition.triggers):
        event_name = v.name(trigger.event_name, f"{field}.triggers[{i}].event_name")
        match = convert.struct_to_python(trigger.match) if trigger.HasField("match") else None
        triggers.append({"event_name": event_name, "match": match})
    return convert.json_text(triggers)


def _retry_policy_json(policy: common_pb2.RetryPolicy) -> str:
    return json_format.MessageToJson(policy, indent=None)
