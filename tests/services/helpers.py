"""Builders and assertions for gRPC tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf import duration_pb2, struct_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_service_pb2 as wf
from tests.services.conftest import Api

T = TypeVar("T")


def value(obj: Any) -> struct_pb2.Value:
    """A google.protobuf.Value holding a JSON-like Python object."""
    out = struct_pb2.Value()
    if isinstance(obj, dict):
        out.struct_value.update(obj)
    elif isinstance(obj, list):
        out.list_value.extend(obj)
    elif obj is None:
        out.null_value = struct_pb2.NULL_VALUE
    elif isinstance(obj, bool):
        out.bool_value = obj
    elif isinstance(obj, int | float):
        out.number_value = obj
    else:
        out.string_value = obj
    return out


def seconds(value: float) -> duration_pb2.Duration:
    out = duration_pb2.Duration()
    out.FromNanoseconds(int(value * 1e9))
    return out


async def expect_error(
    call: Awaitable[Any], code: grpc.StatusCode, reason: str, field: str | None = None
) -> error_details_pb2.ErrorInfo:
    """Await `call`, which must fail with `code` and an ErrorInfo of `reason`."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = caught.value
    assert error.code() == code, error.details()
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "no rich status details"
    infos = [d for d in status.details if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR)]
    assert len(infos) == 1
    info = error_details_pb2.ErrorInfo()
    infos[0].Unpack(info)
    assert info.domain == "stepline"
    assert info.reason == reason, info
    if field is not None:
        assert info.metadata["field"] == field
    assert "Traceback" not in (error.details() or "")
    return info


async def start(api: Api, ns: str, name: str = "wf", **fields: Any) -> wf.StartWorkflowResponse:
    request = wf.StartWorkflowRequest(namespace_id=ns, workflow_name=name, **fields)
    response: wf.StartWorkflowResponse = await api.workflow.StartWorkflow(request)
    return response


async def poll(api: Api, ns: str, wait: float = 5.0, **fields: Any) -> list[wk.RunTask]:
    request = wk.PollActivityRequest(namespace_id=ns, wait=seconds(wait), **fields)
    response: wk.PollActivityResponse = await asyncio.wait_for(
        api.worker.PollActivity(request), timeout=wait + 10
    )
    return list(response.tasks)


async def claim(api: Api, ns: str, **fields: Any) -> wk.RunTask:
    """Start a run and claim it: the task with its lease."""
    await start(api, ns, **fields)
    tasks = await poll(api, ns)
    assert len(tasks) == 1
    return tasks[0]


def altered(lease: wk.RunLease, **fields: str) -> wk.RunLease:
    """A copy of a claim's lease with some fields changed."""
    changed = wk.RunLease()
    changed.CopyFrom(lease)
    for name, value in fields.items():
        setattr(changed, name, value)
    return changed


async def get_run(api: Api, ns: str, run_id: str) -> Any:
    response = await api.workflow.GetWorkflowRun(
        wf.GetWorkflowRunRequest(namespace_id=ns, run_id=run_id)
    )
    return response.run


async def steps_of(api: Api, ns: str, run_id: str) -> list[Any]:
    response = await api.workflow.ListStepAttempts(
        wf.ListStepAttemptsRequest(namespace_id=ns, run_id=run_id, page_size=1000)
    )
    return list(response.step_attempts)


async def until(
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], within: float = 15.0
) -> T:
    """Read until `done(value)`; the last value read. Fails after `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            value = await read()
            if done(value):
                return value
            await asyncio.sleep(0.1)
