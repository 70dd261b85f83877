"""Typed calls to a stepline server over a grpc.aio channel of their own."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc

from stepline.v1 import admin_service_pb2 as ad
from stepline.v1 import admin_service_pb2_grpc as ad_grpc
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc as wk_grpc
from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc as wf_grpc

# Each Api opens its own TCP connection, as a separate client or worker process would.
_CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1)]
CONNECT_TIMEOUT = 10.0


class Api:
    """One channel with both services; `close()` when done."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.aio.insecure_channel(address, options=_CHANNEL_OPTIONS)
        self._workflow = wf_grpc.WorkflowServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self._worker = wk_grpc.WorkerServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self._admin = ad_grpc.AdminServiceStub(self.channel)  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self.channel.close(None)

    async def wait_ready(self) -> None:
        """Connect now, so that no measured call pays for the TCP and HTTP/2 handshake."""
        await asyncio.wait_for(self.channel.channel_ready(), CONNECT_TIMEOUT)

    async def create_namespace(self, namespace_id: str) -> None:
        """The benchmark's namespace: a call naming one that does not exist is refused."""
        request = ad.CreateNamespaceRequest(namespace_id=namespace_id)
        try:
            await self._admin.CreateNamespace(request)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise

    async def set_retention(self, namespace_id: str, retention: timedelta) -> None:
        request = ad.UpdateNamespaceRequest(namespace_id=namespace_id)
        request.retention.FromTimedelta(retention)
        await self._admin.UpdateNamespace(request)

    async def start_workflow(self, request: wf.StartWorkflowRequest) -> wf.StartWorkflowResponse:
        response: wf.StartWorkflowResponse = await self._workflow.StartWorkflow(request)
        return response

    async def list_runs(self, request: wf.ListWorkflowRunsRequest) -> wf.ListWorkflowRunsResponse:
        response: wf.ListWorkflowRunsResponse = await self._workflow.ListWorkflowRuns(request)
        return response

    async def list_steps(self, request: wf.ListStepAttemptsRequest) -> wf.ListStepAttemptsResponse:
        response: wf.ListStepAttemptsResponse = await self._workflow.ListStepAttempts(request)
        return response

    async def poll(
        self, request: wk.PollActivityRequest, deadline_seconds: float
    ) -> wk.PollActivityResponse:
        response: wk.PollActivityResponse = await self._worker.PollActivity(
            request, timeout=deadline_seconds
        )
        return response

    async def complete_step(self, request: wk.CompleteStepRequest) -> wk.CompleteStepResponse:
        response: wk.CompleteStepResponse = await self._worker.CompleteStep(request)
        return response

    async def complete_workflow(
        self, request: wk.CompleteWorkflowRequest
    ) -> wk.CompleteWorkflowResponse:
        response: wk.CompleteWorkflowResponse = await self._worker.CompleteWorkflow(request)
        return response
