"""Bad input is INVALID_ARGUMENT naming the field, and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2, json_format, struct_pb2, timestamp_pb2

from stepline.v1 import common_pb2
from stepline.v1 import step_attempt_pb2 as st
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr
from stepline.v1 import workflow_service_pb2 as wf
from tests.services.conftest import Api
from tests.services.helpers import (
    altered,
    claim,
    expect_error,
    get_run,
    seconds,
    steps_of,
    value,
)

INVALID = grpc.StatusCode.INVALID_ARGUMENT
LIMIT = 1024 * 1024


def _nan() -> struct_pb2.Value:
    return struct_pb2.Value(number_value=float("nan"))


def _as_json(message: Any) -> Any:
    return json_format.MessageToDict(message)


def _struct(obj: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(obj)
    return out


def _nested(depth: int, kind: str) -> Any:
    """`depth` arrays (or objects) one inside the other, around a number."""
    inner: Any = 1
    for _ in range(depth):
        inner = [inner] if kind == "list" else {"k": inner}
    return inner


START_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("missing workflow name", {"workflow_name": ""}, "workflow_name", "INVALID_ARGUMENT"),
    ("whitespace in name", {"workflow_name": "a b"}, "workflow_name", "INVALID_ARGUMENT"),
    ("control char in name", {"workflow_name": "a\x07"}, "workflow_name", "INVALID_ARGUMENT"),
    ("name too long", {"workflow_name": "w" * 256}, "workflow_name", "INVALID_ARGUMENT"),
    ("bad namespace", {"namespace_id": "a/b"}, "namespace_id", "INVALID_ARGUMENT"),
    ("namespace too long", {"namespace_id": "n" * 64}, "namespace_id", "INVALID_ARGUMENT"),
    ("bad task queue", {"task_queue": "q q"}, "task_queue", "INVALID_ARGUMENT"),
    ("version too long", {"version": "v" * 256}, "version", "INVALID_ARGUMENT"),
    ("key too long", {"idempotency_key": "k" * 256}, "idempotency_key", "INVALID_ARGUMENT"),
    # PostgreSQL text cannot hold NUL: refused up front on both backends, never a 500.
    ("NUL in version", {"version": "a\x00b"}, "version", "INVALID_ARGUMENT"),
    ("NUL in key", {"idempotency_key": "k\x00"}, "idempotency_key", "INVALID_ARGUMENT"),
    (
        "oversize input",
        {"input": struct_pb2.Value(string_value="x" * (LIMIT + 1))},
        "input",
        "PAYLOAD_TOO_LARGE",
    ),
    ("NaN in input", {"input": _nan()}, "input", "INVALID_ARGUMENT"),
    # Deeper payloads would be stored, then fail to decode in a reply (upb's depth limit).
    ("input nested 33 deep", {"input": value(_nested(33, "list"))}, "input", "INVALID_ARGUMENT"),
    (
        "context nested 33 deep",
        {"context": _struct(_nested(33, "dict"))},
        "context",
        "INVALID_ARGUMENT",
    ),
    (
        "deadline after year 9999",
        {"deadline_at": timestamp_pb2.Timestamp(seconds=253_402_300_800)},
        "deadline_at",
        "INVALID_ARGUMENT",
    ),
    (
        "start before year 1",
        {"start_at": timestamp_pb2.Timestamp(seconds=-62_135_596_801)},
        "start_at",
        "INVALID_ARGUMENT",
    ),
    (
        "nanos out of range",
        {"start_at": timestamp_pb2.Timestamp(seconds=0, nanos=1_000_000_000)},
        "start_at",
        "INVALID_ARGUMENT",
    ),
    (
        "zero initial interval",
        {"retry_policy": common_pb2.RetryPolicy(initial_interval=duration_pb2.Duration())},
        "retry_policy.initial_interval",
        "INVALID_ARGUMENT",
    ),
    (
        "coefficient below one",
        {"retry_policy": common_pb2.RetryPolicy(backoff_coefficient=0.5)},
        "retry_policy.backoff_coefficient",
        "INVALID_ARGUMENT",
    ),
    (
        "maximum below initial",
        {
            "retry_policy": common_pb2.RetryPolicy(
                initial_interval=seconds(10), maximum_interval=seconds(1)
            )
        },
        "retry_policy.maximum_interval",
        "INVALID_ARGUMENT",
    ),
    (
        # Beyond 10 years the default maximum (x100) would leave Duration's range.
        "initial interval over ten years",
        {"retry_policy": common_pb2.RetryPolicy(initial_interval=seconds(315_576_001))},
        "retry_policy.initial_interval",
        "INVALID_ARGUMENT",
    ),
    (
        "maximum interval over ten years",
        {"retry_policy": common_pb2.RetryPolicy(maximum_interval=seconds(315_576_001))},
        "retry_policy.maximum_interval",
        "INVALID_ARGUMENT",
    ),
    (
        "initial interval outside the Duration range",
        {
            "retry_policy": common_pb2.RetryPolicy(
                initial_interval=duration_pb2.Duration(seconds=315_576_000_001)
            )
        },
        "retry_policy.initial_interval",
        "INVALID_ARGUMENT",
    ),
    (
        "negative attempts",
        {"retry_policy": common_pb2.RetryPolicy(maximum_attempts=-1)},
        "retry_policy.maximum_attempts",
        "INVALID_ARGUMENT",
    ),
]


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [pytest.param(f, fd, r, id=case) for case, f, fd, r in START_CASES],
)
async def test_start__bad_input_is_invalid_and_creates_nothing(
    api: Api, ns: str, fields: dict[str, Any], field: str, reason: str
) -> None:
    request = wf.StartWorkflowRequest(namespace_id=ns, workflow_name="wf")
    for name, item in fields.items():
        if isinstance(item, str):
            setattr(request, name, item)
        else:
            getattr(request, name).CopyFrom(item)
    info = await expect_error(api.workflow.StartWorkflow(request), INVALID, reason, field=field)
    if reason == "PAYLOAD_TOO_LARGE":
        assert info.metadata["limit_bytes"] == str(LIMIT)
    listed = await api.workflow.ListWorkflowRuns(wf.ListWorkflowRunsRequest(namespace_id=ns))
    assert list(listed.workflow_runs) == []


WorkerCall = Callable[[Api, wk.RunLease], Any]

WORKER_CASES: list[tuple[str, WorkerCall, str]] = [
    (
        "no lease",
        lambda api, lease: api.worker.CompleteWorkflow(wk.CompleteWorkflowRequest()),
        "lease.run_id",
    ),
    (
        "malformed lease id",
        lambda api, lease: api.worker.CompleteWorkflow(
            wk.CompleteWorkflowRequest(lease=altered(lease, lease_id="lease-1"))
        ),
        "lease.lease_id",
    ),
    (
        "malformed run id",
        lambda api, lease: api.worker.RecordHeartbeat(
            wk.RecordHeartbeatRequest(lease=altered(lease, run_id="run-1"))
        ),
        "lease.run_id",
    ),
    (
        "malformed namespace",
        lambda api, lease: api.worker.BeginStep(
            wk.BeginStepRequest(lease=altered(lease, namespace_id="no spaces"), step_id="s")
        ),
        "lease.namespace_id",
    ),
    (
        "missing step id",
        lambda api, lease: api.worker.CompleteStep(wk.CompleteStepRequest(lease=lease)),
        "step_id",
    ),
    (
        "sleep kind on begin",
        lambda api, lease: api.worker.BeginStep(
            wk.BeginStepRequest(lease=lease, step_id="s", kind=st.STEP_KIND_SLEEP)
        ),
        "kind",
    ),
    (
        "unknown step kind",
        lambda api, lease: api.worker.CompleteStep(
            wk.CompleteStepRequest(lease=lease, step_id="s", kind=9)  # type: ignore[arg-type]
        ),
        "kind",
    ),
    (
        "fail without error",
        lambda api, lease: api.worker.FailStep(wk.FailStepRequest(lease=lease, step_id="s")),
        "error",
    ),
    (
        "empty error",
        lambda api, lease: api.worker.FailWorkflow(
            wk.FailWorkflowRequest(lease=lease, error=common_pb2.Failure())
        ),
        "error",
    ),
    (
        "sleep without a time",
        lambda api, lease: api.worker.ScheduleSleep(
            wk.ScheduleSleepRequest(lease=lease, step_id="s")
        ),
        "wake_up_at",
    ),
    (
        "negative sleep",
        lambda api, lease: api.worker.ScheduleSleep(
            wk.ScheduleSleepRequest(lease=lease, step_id="s", duration=seconds(-1))
        ),
        "duration",
    ),
    (
        "oversize output",
        lambda api, lease: api.worker.CompleteWorkflow(
            wk.CompleteWorkflowRequest(lease=lease, output=value("x" * (LIMIT + 1)))
        ),
        "output",
    ),
    (
        "malformed attempt id",
        lambda api, lease: api.worker.CompleteStep(
            wk.CompleteStepRequest(lease=lease, step_attempt_id="nope")
        ),
        "step_attempt_id",
    ),
]


@pytest.mark.parametrize(
    ("call", "field"), [pytest.param(c, f, id=case) for case, c, f in WORKER_CASES]
)
async def test_worker_call__bad_input_is_invalid_and_changes_nothing(
    api: Api, ns: str, call: WorkerCall, field: str
) -> None:
    task = await claim(api, ns)
    before = await get_run(api, ns, task.run.run_id)
    await expect_error(call(api, task.lease), INVALID, _reason_for(field), field=field)
    assert await get_run(api, ns, task.run.run_id) == before
    assert await steps_of(api, ns, task.run.run_id) == []


async def test_worker_call__old_flat_lease_fields_are_invalid_and_change_nothing(
    api: Api, ns: str
) -> None:
    # Before RunLease, a request carried the claim's fields as its fields 1-4, with
    # RunLease's own numbers and types: the same bytes are an old client's CompleteWorkflow.
    task = await claim(api, ns)
    old_style = task.lease.SerializeToString()
    request = wk.CompleteWorkflowRequest.FromString(old_style)
    assert not request.HasField("lease")
    call = api.worker.CompleteWorkflow(request)
    await expect_error(call, INVALID, "INVALID_ARGUMENT", field="lease.run_id")
    run = await get_run(api, ns, task.run.run_id)
    assert run.status == wr.WORKFLOW_RUN_STATUS_RUNNING


def _reason_for(field: str) -> str:
    return "PAYLOAD_TOO_LARGE" if field == "output" else "INVALID_ARGUMENT"


POLL_CASES = [
    ("wait over a minute", {"wait": seconds(61)}, "wait"),
    ("negative wait", {"wait": seconds(-1)}, "wait"),
    ("max runs over 100", {"max_runs": 101}, "max_runs"),
    ("negative max runs", {"max_runs": -1}, "max_runs"),
    ("bad workflow filter", {"workflow_names": ["a b"]}, "workflow_names"),
]


@pytest.mark.parametrize(
    ("fields", "field"), [pytest.param(f, fd, id=c) for c, f, fd in POLL_CASES]
)
async def test_poll__bad_input_is_invalid(
    api: Api, ns: str, fields: dict[str, Any], field: str
) -> None:
    await expect_error(
        api.worker.PollActivity(wk.PollActivityRequest(namespace_id=ns, **fields)),
        INVALID,
        "INVALID_ARGUMENT",
        field=field,
    )


async def test_cancel__reason_too_long_is_invalid(api: Api, ns: str) -> None:
    await expect_error(
        api.workflow.CancelWorkflowRun(
            wf.CancelWorkflowRunRequest(
                namespace_id=ns, run_id=str(uuid.uuid4()), reason="r" * 1025
            )
        ),
        INVALID,
        "INVALID_ARGUMENT",
        field="reason",
    )


@pytest.mark.parametrize("kind", ["list", "dict"])
async def test_start__payloads_nested_32_deep_round_trip_to_the_worker(
    api: Api, ns: str, kind: str
) -> None:
    deepest = _nested(32, kind)
    context = deepest if kind == "dict" else {"k": _nested(31, kind)}
    task = await claim(api, ns, input=value(deepest), context=context)
    assert _as_json(task.run.input) == deepest
    assert _as_json(task.run.context)["k"] == context["k"]
