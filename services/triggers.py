"""Event triggers: which runs a SendEvent starts.

A workflow registered with `on_event` (and `match`) is started by every event of that
name whose data contains the match (storage/matching.py, the rule of wait_for_event's
match). The run is pinned as StartWorkflow pins one with no version (the newest version
served by an online worker, else the newest), the triggers are those of that version,
and its task queue is the one the workers serving that version registered with. The
runs are started by the store in the event's transaction, so an event sent again with
its idempotency key starts nothing new.

The namespace's registry is read at most once per second per server (as starts read
it); a registration through this server reads it again at once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from services import validation as v
from services.errors import ApiError
from services.input_schemas import InputValidators
from stepline.v1 import workflow_service_pb2 as wf
from storage import Store
from storage.matching import contains
from storage.records import Json, RunCreateParams
from storage.registry import (
    Worker,
    WorkerListParams,
    Workflow,
    WorkflowListParams,
    WorkflowVersion,
)

logger = logging.getLogger(__name__)

_CACHE_SECONDS = 1.0
_DEFAULT_RETRY_POLICY = v.retry_policy(wf.StartWorkflowRequest(), "retry_policy")


class Triggers:
    def __init__(self, store: Store, online_window: timedelta, validators: InputValidators) -> None:
        self._store = store
        self._online_window = online_window
        self._validators = validators
        self._namespaces: dict[str, tuple[float, list[Workflow], list[Worker]]] = {}

    def changed(self, namespace_id: str) -> None:
        self._namespaces.pop(namespace_id, None)

    async def starts(
        self, namespace_id: str, event_name: str, data: dict[str, Any]
    ) -> tuple[RunCreateParams, ...]:
        """The runs an event starts: one per workflow with a matching trigger."""
        workflows, workers = await self._read(namespace_id)
        starts = []
        for workflow in workflows:
            version = workflow.newest
            if version is None or not _fires(version.triggers, event_name, data):
                continue
            run_input = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
            if not self._input_valid(workflow, version, run_input):
                continue
            queue = _task_queue(workflow, version, workers)
            starts.append(_start(workflow, version, queue, run_input))
        return tuple(starts)

    def _input_valid(self, workflow: Workflow, version: WorkflowVersion, run_input: str) -> bool:
        """An event whose data the version's input schema rejects starts no run (the event
        is still stored and still resolves waits); the server logs why."""
        if version.input_schema is None:
            return True
        try:
            self._validators.check(version.input_schema, run_input)
        except ApiError as error:
            logger.warning(
                "event trigger of workflow %r version %r skipped: %s",
                workflow.workflow_name,
                version.version,
                error.message,
            )
            return False
        return True

    async def _read(self, namespace_id: str) -> tuple[list[Workflow], list[Worker]]:
        now = time.monotonic()
        cached = self._namespaces.get(namespace_id)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        window = self._online_window
        workflows = await self._store.workflow_list(WorkflowListParams(namespace_id, window))
        workflows = [w for w in workflows if w.newest is not None and w.newest.triggers != "[]"]
        workers = await self._store.worker_list(WorkerListParams(namespace_id, None, window))
        if len(self._namespaces) > 1_000:
            self._namespaces.clear()
        self._namespaces[namespace_id] = (now + _CACHE_SECONDS, workflows, workers)
        return workflows, workers


def _fires(triggers: Json, event_name: str, data: dict[str, Any]) -> bool:
    return any(
        trigger["event_name"] == event_name
        and (trigger.get("match") is None or contains(data, trigger["match"]))
        for trigger in json.loads(triggers)
    )


def _task_queue(workflow: Workflow, version: WorkflowVersion, workers: Sequence[Worker]) -> str:
    """The queue of a worker serving the version (one online first), else the default."""
    serving = [
        worker
        for worker in workers
        if any(
            w.workflow_name == workflow.workflow_name and w.version == version.version
            for w in worker.workflows
        )
    ]
    serving.sort(key=lambda worker: (not worker.online, -worker.last_seen_at.timestamp()))
    return serving[0].task_queue if serving else v.DEFAULT_TASK_QUEUE


def _start(
    workflow: Workflow, version: WorkflowVersion, task_queue: str, run_input: str
) -> RunCreateParams:
    return RunCreateParams(
        namespace_id=workflow.namespace_id,
        workflow_name=workflow.workflow_name,
        version=version.version,
        task_queue=task_queue,
        input=run_input,
        idempotency_key=None,
        context=None,
        deadline_at=None,
        start_at=None,
        retry_policy=_DEFAULT_RETRY_POLICY,
    )
