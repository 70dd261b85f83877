"""RegisterWaits' request, validated into storage's wait specs."""

from __future__ import annotations

from datetime import timedelta

from services import convert
from services import validation as v
from services.errors import invalid
from stepline.v1 import waits_pb2
from stepline.v1 import worker_service_pb2 as pb
from storage.records import ChildSpec, Json, StepKind, WaitSpec
from storage.waiting import MAX_WAITS


def wait_specs(request: pb.RegisterWaitsRequest, limits: v.Limits) -> tuple[WaitSpec, ...]:
    if not 1 <= len(request.waits) <= MAX_WAITS:
        raise invalid("waits", f"must hold 1 to {MAX_WAITS} waits")
    specs = tuple(_spec(wait, limits) for wait in request.waits)
    step_ids = [spec.step_id for spec in specs]
    if len(set(step_ids)) != len(step_ids):
        raise invalid("waits", "each wait needs its own step_id")
    return specs


def _spec(wait: pb.Wait, limits: v.Limits) -> WaitSpec:
    step_id = v.name(wait.step_id, "step_id")
    wake_up_at = v.timestamp(wait, "wake_up_at")
    duration = v.duration(wait, "duration")
    if duration is not None and duration < timedelta(0):
        raise invalid("duration", "must not be negative")
    target = wait.WhichOneof("target")
    if target == "child":
        if wake_up_at is not None or duration is not None:
            raise invalid("timeout", "a child wait has no timeout: the child has a deadline")
        return WaitSpec(step_id, StepKind.CHILD, child=_child(wait.child, limits))
    if target == "signal":
        name = v.name(wait.signal.signal_name, "signal_name")
        return WaitSpec(
            step_id, StepKind.SIGNAL, name=name, wake_up_at=wake_up_at, duration=duration
        )
    if target == "event":
        name = v.name(wait.event.event_name, "event_name")
        match = _match(wait.event, limits)
        return WaitSpec(
            step_id,
            StepKind.EVENT,
            name=name,
            match=match,
            wake_up_at=wake_up_at,
            duration=duration,
        )
    raise invalid("target", "a wait needs a child, a signal or an event")


def _child(child: waits_pb2.ChildWait, limits: v.Limits) -> ChildSpec:
    context = v.struct(child, "context", limits)
    return ChildSpec(
        workflow_name=v.name(child.workflow_name, "workflow_name"),
        version=v.text(child.version, "version"),
        # Empty: the parent's task queue (storage knows it).
        task_queue=v.optional_name(child.task_queue, "task_queue") or "",
        input=v.payload(child, "input", limits),
        context=None if context is None else convert.json_text(context),
        retry_policy=v.retry_policy(child, "retry_policy"),
    )


def _match(event: waits_pb2.EventWait, limits: v.Limits) -> Json | None:
    match = v.struct(event, "match", limits)
    return None if not match else convert.json_text(match)
