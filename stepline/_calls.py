"""How an execution's calls reach the server: over the worker stream (stepline/_stream.py)
or as unary RPCs. Both take a call by its WorkCall field name ("complete_step", ...) and
its unary request message, answer the unary response message, and raise the SDK's
SteplineError for an error answer."""

from __future__ import annotations

from typing import Any, Protocol

import grpc
from google.protobuf.message import Message

from stepline._errors import from_rpc_error
from stepline.v1 import worker_service_pb2_grpc as wk_grpc

# WorkCall field name -> WorkerService method name.
METHODS = {
    "record_heartbeat": "RecordHeartbeat",
    "begin_step": "BeginStep",
    "complete_step": "CompleteStep",
    "fail_step": "FailStep",
    "schedule_sleep": "ScheduleSleep",
    "register_waits": "RegisterWaits",
    "complete_workflow": "CompleteWorkflow",
    "fail_workflow": "FailWorkflow",
    "release_run": "ReleaseRun",
}


class WorkerCalls(Protocol):
    async def call(self, kind: str, request: Message, deadline: float | None = None) -> Any:
        """The response of call `kind`; SteplineError when it fails. `deadline`: seconds
        to wait for the answer (SteplineError with code DEADLINE_EXCEEDED after that)."""
        ...


class UnaryCalls:
    """Each call a unary RPC of its own."""

    def __init__(
        self, stub: wk_grpc.WorkerServiceStub, metadata: tuple[tuple[str, str], ...] | None
    ) -> None:
        self._methods = {kind: getattr(stub, name) for kind, name in METHODS.items()}
        self._metadata = metadata

    async def call(self, kind: str, request: Message, deadline: float | None = None) -> Any:
        try:
            return await self._methods[kind](request, timeout=deadline, metadata=self._metadata)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from None
