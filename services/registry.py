"""What the services share about registered workflows and workers: worker freshness,
and what a start needs from the registry (its pinned version, warnings, the input
schema's validator).

A start reads the workflow's versions once per second at most per (namespace, name) on
this server (a small cache: starts are a hot path); a registration, pause or resume
made through this server clears the entry at once, another server's within a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import grpc

from services.errors import ApiError
from services.input_schemas import InputValidators
from services.triggers import Triggers
from stepline.v1 import error_reason_pb2
from storage import Store
from storage.errors import WorkflowNotFound
from storage.registry import WorkerTouchParams, Workflow, WorkflowGetParams

# A worker unseen for this many lease periods is shown as gone.
ONLINE_LEASES = 3
_START_CACHE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class StartTarget:
    """Where a start goes: the version recorded on the run, and what to tell the caller."""

    version: str
    warnings: tuple[str, ...]
    input_schema: str | None
    priority: int = 0
    """The pinned version's default priority; 0: none (the server's default)."""


class Registry:
    def __init__(self, store: Store, lease_duration: timedelta, require_registered: bool) -> None:
        self.store = store
        self.online_window = ONLINE_LEASES * lease_duration
        self.require_registered = require_registered
        self.validators = InputValidators()
        self.triggers = Triggers(store, self.online_window, self.validators)
        # A worker's last_seen_at is written at most this often per worker and server.
        self._touch_every = lease_duration.total_seconds() / 3
        self._touched: dict[tuple[str, str], float] = {}
        self._workflows: dict[tuple[str, str], tuple[float, Workflow | None]] = {}

    # --- workers ------------------------------------------------------------------------

    async def seen(self, namespace_id: str, worker_id: str | None) -> None:
        """The worker polled, streamed or sent a heartbeat: keep it shown as online."""
        if not worker_id:
            return
        key = (namespace_id, worker_id)
        now = time.monotonic()
        if now - self._touched.get(key, -1e9) < self._touch_every:
            return
        self._touched[key] = now
        if len(self._touched) > 10_000:  # workers come and go; forget the old ones
            self._touched = {k: t for k, t in self._touched.items() if now - t < 60}
        await self.store.worker_touch(WorkerTouchParams(namespace_id, worker_id))

    def registered(self, namespace_id: str, worker_id: str, workflow_names: list[str]) -> None:
        """A registration through this server: it counts as seen, and starts of its
        workflows read the registry again."""
        self._touched[(namespace_id, worker_id)] = time.monotonic()
        self.triggers.changed(namespace_id)
        for name in workflow_names:
            self.changed(namespace_id, name)

    def changed(self, namespace_id: str, workflow_name: str) -> None:
        self._workflows.pop((namespace_id, workflow_name), None)

    # --- starts -------------------------------------------------------------------------

    async def start_target(
        self, namespace_id: str, workflow_name: str, version: str
    ) -> StartTarget:
        """The version a start records (the newest registered when none is given), its
        warnings, and the schema its input must match. WORKFLOW_NOT_FOUND under
        --require-registered for a workflow no worker ever registered."""
        workflow = await self._workflow(namespace_id, workflow_name)
        newest = workflow.newest if workflow is not None else None
        if newest is None:
            if self.require_registered:
                raise _not_registered(namespace_id, workflow_name)
            warning = (
                f"no worker ever registered workflow {workflow_name!r} in namespace "
                f"{namespace_id!r}: the run waits until one does"
            )
            return StartTarget(version, (warning,), None)
        assert workflow is not None
        pinned = workflow.version(version) if version else newest
        if pinned is None:
            warning = (
                f"no worker registered version {version!r} of workflow {workflow_name!r}: "
                "the run waits until one does"
            )
            return StartTarget(version, (warning,), None)
        warnings: tuple[str, ...] = ()
        if pinned.workers_online == 0:
            warnings = (
                f"no worker online serves version {pinned.version!r} of workflow "
                f"{workflow_name!r}: the run waits until one does",
            )
        return StartTarget(pinned.version, warnings, pinned.input_schema, pinned.priority)

    async def _workflow(self, namespace_id: str, workflow_name: str) -> Workflow | None:
        key = (namespace_id, workflow_name)
        now = time.monotonic()
        cached = self._workflows.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        params = WorkflowGetParams(
            namespace_id, workflow_name, self.online_window, with_run_counts=False
        )
        try:
            workflow: Workflow | None = await self.store.workflow_get(params)
        except WorkflowNotFound:
            workflow = None
        if len(self._workflows) > 10_000:
            self._workflows.clear()
        self._workflows[key] = (now + _START_CACHE_SECONDS, workflow)
        return workflow


def _not_registered(namespace_id: str, workflow_name: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.NOT_FOUND,
        error_reason_pb2.ERROR_REASON_WORKFLOW_NOT_FOUND,
        f"no worker ever registered workflow {workflow_name!r} in namespace {namespace_id!r}",
        {"namespace_id": namespace_id, "workflow_name": workflow_name},
    )
