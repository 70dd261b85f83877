"""The registry's client calls, part of WorkflowService: list and get workflows, pause
and resume them, list workers."""

from __future__ import annotations

from typing import Any

import grpc

from services import validation as v
from services.errors import rpc
from services.registry import Registry
from services.registry_convert import worker_to_proto, workflow_to_proto
from stepline.v1 import registry_pb2 as pb
from storage.registry import (
    WorkerListParams,
    WorkflowGetParams,
    WorkflowListParams,
    WorkflowPauseParams,
)

Context = grpc.aio.ServicerContext[Any, Any]

# Like a cancel's reason: a short human sentence.
MAX_REASON = 1024


class RegistryCalls:
    """WorkflowService's registry calls; the servicer sets `_registry`."""

    _registry: Registry

    @rpc
    async def ListWorkflows(
        self, request: pb.ListWorkflowsRequest, context: Context
    ) -> pb.ListWorkflowsResponse:
        registry = self._registry
        params = WorkflowListParams(v.namespace(request.namespace_id), registry.online_window)
        workflows = await registry.store.workflow_list(params)
        return pb.ListWorkflowsResponse(workflows=[workflow_to_proto(w) for w in workflows])

    @rpc
    async def GetWorkflow(
        self, request: pb.GetWorkflowRequest, context: Context
    ) -> pb.GetWorkflowResponse:
        registry = self._registry
        params = WorkflowGetParams(
            v.namespace(request.namespace_id),
            v.name(request.workflow_name, "workflow_name"),
            registry.online_window,
        )
        workflow = await registry.store.workflow_get(params)
        return pb.GetWorkflowResponse(workflow=workflow_to_proto(workflow))

    @rpc
    async def PauseWorkflow(
        self, request: pb.PauseWorkflowRequest, context: Context
    ) -> pb.PauseWorkflowResponse:
        params = self._pause_params(request, paused=True)
        workflow = await self._registry.store.workflow_pause(params)
        self._registry.changed(params.namespace_id, params.workflow_name)
        return pb.PauseWorkflowResponse(workflow=workflow_to_proto(workflow))

    @rpc
    async def ResumeWorkflow(
        self, request: pb.ResumeWorkflowRequest, context: Context
    ) -> pb.ResumeWorkflowResponse:
        params = self._pause_params(request, paused=False)
        workflow = await self._registry.store.workflow_pause(params)
        self._registry.changed(params.namespace_id, params.workflow_name)
        return pb.ResumeWorkflowResponse(workflow=workflow_to_proto(workflow))

    def _pause_params(
        self, request: pb.PauseWorkflowRequest | pb.ResumeWorkflowRequest, *, paused: bool
    ) -> WorkflowPauseParams:
        reason = request.reason if isinstance(request, pb.PauseWorkflowRequest) else ""
        return WorkflowPauseParams(
            namespace_id=v.namespace(request.namespace_id),
            workflow_name=v.name(request.workflow_name, "workflow_name"),
            paused=paused,
            reason=v.text(reason, "reason", MAX_REASON),
            online_window=self._registry.online_window,
        )

    @rpc
    async def ListWorkers(
        self, request: pb.ListWorkersRequest, context: Context
    ) -> pb.ListWorkersResponse:
        registry = self._registry
        params = WorkerListParams(
            namespace_id=v.namespace(request.namespace_id),
            task_queue=v.optional_name(request.task_queue, "task_queue"),
            online_window=registry.online_window,
        )
        workers = await registry.store.worker_list(params)
        return pb.ListWorkersResponse(workers=[worker_to_proto(w) for w in workers])
