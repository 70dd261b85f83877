"""Every RPC x every kind of key x own/other namespace, on both backends: the expected
code, and nothing of namespace B readable, listable, cancelable or claimable with a key
of A. The roles each RPC admits are written out here from the issue, independently of
the proto declarations the server enforces, so a wrong declaration fails this test."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor

from services import permissions
from stepline.v1 import worker_service_pb2 as wk
from tests.access.conftest import Secured, code_of

READ, WRITE, WORK, ADMIN = "reader client admin", "client admin", "worker admin", "admin"
# The roles of namespace A that may make each call there (an operator key may make all).
ROLES_ADMITTED = {
    "StartWorkflow": WRITE,
    "GetWorkflowRun": READ,
    "ListWorkflowRuns": READ,
    "CancelWorkflowRun": WRITE,
    "ListStepAttempts": READ,
    "GetStepAttempt": READ,
    "ReplayWorkflowRun": WRITE,
    "BatchCancelWorkflowRuns": WRITE,
    "BatchReplayWorkflowRuns": WRITE,
    "SignalWorkflowRun": WRITE,
    "SendEvent": WRITE,
    "GetEvent": READ,
    "ListEvents": READ,
    "ListEventRuns": READ,
    "ListWorkflows": READ,
    "GetWorkflow": READ,
    "PauseWorkflow": WRITE,
    "ResumeWorkflow": WRITE,
    "ListWorkers": READ,
    "CreateSchedule": WRITE,
    "GetSchedule": READ,
    "ListSchedules": READ,
    "DeleteSchedule": WRITE,
    "PauseSchedule": WRITE,
    "ResumeSchedule": WRITE,
    "TriggerSchedule": WRITE,
    **dict.fromkeys(
        [
            "PollActivity",
            "RecordHeartbeat",
            "BeginStep",
            "CompleteStep",
            "FailStep",
            "ScheduleSleep",
            "RegisterWaits",
            "CompleteWorkflow",
            "FailWorkflow",
            "ReleaseRun",
            "WorkStream",
            "RegisterWorker",
        ],
        WORK,
    ),
    "CreateNamespace": "",  # operator only
    "ListNamespaces": "",  # operator only
    "GetNamespace": ADMIN,
    "UpdateNamespace": ADMIN,
    "CreateApiKey": ADMIN,
    "ListApiKeys": ADMIN,
    "RevokeApiKey": ADMIN,
}
ROLES = ("reader", "client", "worker", "admin")
REFUSED_KEYS = ("none", "garbled", "unknown", "revoked", "wrong_secret")
METHODS = [m for service in permissions.SERVICES for m in service.methods]


def _request(method: MethodDescriptor, namespace: str, secured: Secured) -> Any:
    message: Any = message_factory.GetMessageClass(method.input_type)()
    fields = method.input_type.fields_by_name
    run_id = secured.runs[namespace]
    if "namespace_id" in fields:
        message.namespace_id = namespace
    if "lease" in fields:
        message.lease.namespace_id = namespace
        message.lease.run_id = run_id
        message.lease.lease_id = str(uuid.uuid4())
    if "run_id" in fields:
        message.run_id = run_id
    for name, value in (("workflow_name", "matrix"), ("name", "matrix"), ("step_id", "s")):
        if name in fields and method.name != "ListWorkflowRuns":
            setattr(message, name, value)
    if "role" in fields:
        message.role = 1  # ROLE_READER
    if "key_id" in fields:
        message.key_id = "0" * 16  # no such key: a revocation must not hit the tests' own
    if "wait" in fields:
        message.wait.FromMilliseconds(1)
    if "step_attempt_id" in fields:
        message.step_attempt_id = str(uuid.uuid4())
    return message


async def _call(secured: Secured, method: MethodDescriptor, namespace: str, key: str) -> Any:
    """The status code of the call (OK when it succeeded)."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    channel = secured.api.channel
    try:
        if method.name == "WorkStream":
            stream = channel.stream_stream(
                path, request_class.SerializeToString, response_class.FromString
            )(metadata=secured.as_(key))  # type: ignore[call-arg]
            await stream.write(wk.WorkStreamRequest(open=wk.WorkStreamOpen(namespace_id=namespace)))
            await stream.done_writing()
            async for _ in stream:
                pass
            return grpc.StatusCode.OK
        unary = channel.unary_unary(
            path, request_class.SerializeToString, response_class.FromString
        )
        await unary(_request(method, namespace, secured), metadata=secured.as_(key), timeout=10)
    except grpc.aio.AioRpcError as error:
        return code_of(error)
    return grpc.StatusCode.OK


def _refusal(code: Any) -> bool:
    return code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
async def test_matrix__every_rpc_every_key_own_and_other_namespace(
    secured: Secured, method: MethodDescriptor
) -> None:
    admitted = ROLES_ADMITTED.get(method.name)
    assert admitted is not None, f"{method.name}: add it to ROLES_ADMITTED"
    got: dict[tuple[str, str], Any] = {}
    for side, namespace in (("own", secured.a), ("other", secured.b)):
        for key in (*REFUSED_KEYS, *ROLES, "operator"):
            got[key, side] = await _call(secured, method, namespace, key)
    for key in REFUSED_KEYS:
        for side in ("own", "other"):
            assert got[key, side] == grpc.StatusCode.UNAUTHENTICATED, (key, side, got)
    for role in ROLES:
        own, other = got[role, "own"], got[role, "other"]
        if role in admitted.split():
            assert not _refusal(own), (role, own)
        else:
            assert own == grpc.StatusCode.PERMISSION_DENIED, (role, own)
        if method.name != "ListNamespaces":  # it names no namespace
            assert other == grpc.StatusCode.PERMISSION_DENIED, (role, other)
    for side in ("own", "other"):
        assert not _refusal(got["operator", side]), (side, got["operator", side])
