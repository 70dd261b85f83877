"""RegisterWorker: a worker tells the server what it runs, when it starts and again
after every reconnection (the poll loop's, and each new worker stream's).

An older server has no RegisterWorker: the worker then runs unregistered, claiming any
version, as workers did before the registry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import grpc

from stepline._convert import fill_struct
from stepline._workflow import AnyWorkflow
from stepline.v1 import registry_pb2 as rg
from stepline.v1 import worker_service_pb2_grpc as wk_grpc

log = logging.getLogger("stepline.worker")
_REGISTER_TIMEOUT = 10.0


def register_request(
    namespace: str, worker_id: str, task_queue: str, workflows: Iterable[AnyWorkflow]
) -> rg.RegisterWorkerRequest:
    request = rg.RegisterWorkerRequest(
        namespace_id=namespace, worker_id=worker_id, task_queue=task_queue
    )
    for workflow in workflows:
        definition = request.workflows.add(
            workflow_name=workflow.name,
            version=workflow.version,
            max_concurrency=workflow.max_concurrency,
            max_concurrency_per_key=workflow.max_concurrency_per_key,
            priority=workflow.priority,
        )
        if workflow.input_type is not None:
            fill_struct(definition.input_schema, workflow.input_type.json_schema(), "input schema")
        if workflow.on_event:
            trigger = definition.triggers.add(event_name=workflow.on_event)
            if workflow.match is not None:
                fill_struct(trigger.match, workflow.match, "match")
        _add_policy(definition, workflow)
    return request


def _add_policy(definition: rg.WorkflowDefinition, workflow: AnyWorkflow) -> None:
    """The definition's poison policy and schedule."""
    if workflow.max_crashes is not None:
        definition.max_crashes = workflow.max_crashes
    definition.on_poison = _ON_POISON[workflow.on_poison]
    definition.schedule_cron = workflow.schedule
    definition.schedule_timezone = workflow.timezone


_ON_POISON = {"fail": rg.POISON_ACTION_FAIL, "pause": rg.POISON_ACTION_PAUSE}


class Registration:
    """Sends the worker's registration; remembers an older server's lack of it."""

    def __init__(
        self,
        stub: wk_grpc.WorkerServiceStub,
        request: rg.RegisterWorkerRequest,
        metadata: Sequence[tuple[str, str]] | None,
    ) -> None:
        self._stub = stub
        self._request = request
        self._metadata = metadata
        self._unsupported = False

    async def send(self) -> None:
        """Register (again). grpc.aio.AioRpcError when the server cannot be reached: the
        caller retries as it does for its poll or stream."""
        if self._unsupported:
            return
        try:
            await self._stub.RegisterWorker(
                self._request, timeout=_REGISTER_TIMEOUT, metadata=self._metadata
            )
        except grpc.aio.AioRpcError as error:
            if error.code() is not grpc.StatusCode.UNIMPLEMENTED:
                raise
            self._unsupported = True
            log.info("the server has no workflow registry: running unregistered")
