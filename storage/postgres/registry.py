"""The workflow registry: registrations, the workers and workflows they make known,
pause and resume (storage/registry.py has the records)."""

from __future__ import annotations

from typing import Any

from storage.errors import WorkflowNotFound
from storage.postgres.codec import CODEC
from storage.postgres.database import Conn, Database, fetch
from storage.registry import (
    Worker,
    WorkerListParams,
    WorkerRegisterParams,
    WorkerTouchParams,
    Workflow,
    WorkflowGetParams,
    WorkflowListParams,
    WorkflowPauseParams,
    workers_from_rows,
    workflows_from_rows,
)
from storage.schedules import schedule_insert_params


async def register(db: Database, params: WorkerRegisterParams) -> Worker:
    worker = {"namespace_id": params.namespace_id, "worker_id": params.worker_id}
    async with db.transaction() as conn:
        await fetch(conn, "worker_upsert", {**worker, "task_queue": params.task_queue})
        await fetch(conn, "worker_workflows_clear", worker)
        for definition in params.workflows:
            named = {"workflow_name": definition.workflow_name, "version": definition.version}
            await fetch(conn, "worker_workflow_insert", {**worker, **named})
            await fetch(conn, "workflow_insert", {**worker, **named})
            await fetch(
                conn,
                "workflow_version_upsert",
                {
                    **worker,
                    **named,
                    "input_schema": definition.input_schema,
                    "triggers": definition.triggers,
                    "retry_policy": definition.retry_policy,
                    "max_concurrency": definition.max_concurrency,
                    "max_concurrency_per_key": definition.max_concurrency_per_key,
                    "priority": definition.priority,
                    "max_crashes": definition.max_crashes,
                    "on_poison": definition.on_poison.value,
                },
            )
            await _update_limits(conn, {**worker, **named})
        for schedule in params.schedules:
            await fetch(conn, "schedule_register", schedule_insert_params(schedule, CODEC))
        (registered,) = await _workers(conn, params.namespace_id, params.worker_id, None, params)
    return registered


async def _update_limits(conn: Conn, named: dict[str, str]) -> None:
    """The workflow's limits follow its newest version; a limit newly set makes the runs
    RUNNING already hold slots, so that it counts them."""
    changed = await fetch(conn, "workflow_limits_update", named)
    if changed and (changed[0]["max_concurrency"] or changed[0]["max_concurrency_per_key"]):
        await fetch(conn, "workflow_slots_adopt", named)


async def touch(db: Database, params: WorkerTouchParams) -> None:
    await db.fetch(
        "worker_touch", {"namespace_id": params.namespace_id, "worker_id": params.worker_id}
    )


async def list_workers(db: Database, params: WorkerListParams) -> list[Worker]:
    async with db.transaction() as conn:
        return await _workers(conn, params.namespace_id, None, params.task_queue, params)


async def _workers(
    conn: Conn, namespace_id: str, worker_id: str | None, task_queue: str | None, params: Any
) -> list[Worker]:
    query = {
        "namespace_id": namespace_id,
        "worker_id": worker_id,
        "task_queue": task_queue,
        "online_window": params.online_window,
    }
    rows = await fetch(conn, "workers_list", query)
    workflows = await fetch(conn, "worker_workflows_list", query)
    return workers_from_rows(rows, workflows, CODEC)


async def list_workflows(db: Database, params: WorkflowListParams) -> list[Workflow]:
    query = {
        "namespace_id": params.namespace_id,
        "workflow_name": None,
        "online_window": params.online_window,
    }
    async with db.transaction() as conn:
        workflows = await fetch(conn, "workflows_list", query)
        versions = await fetch(conn, "workflow_versions_list", query)
        counts = await fetch(conn, "workflows_active_run_counts", query)
    return workflows_from_rows(workflows, versions, counts, CODEC)


async def get_workflow(db: Database, params: WorkflowGetParams) -> Workflow:
    async with db.transaction() as conn:
        return await _workflow(conn, params)


async def _workflow(conn: Conn, params: WorkflowGetParams) -> Workflow:
    query = {
        "namespace_id": params.namespace_id,
        "workflow_name": params.workflow_name,
        "online_window": params.online_window,
    }
    workflows = await fetch(conn, "workflows_list", query)
    if not workflows:
        raise WorkflowNotFound(params.namespace_id, params.workflow_name)
    versions = await fetch(conn, "workflow_versions_list", query)
    counts = await fetch(conn, "workflow_run_counts", query) if params.with_run_counts else []
    (workflow,) = workflows_from_rows(workflows, versions, counts, CODEC)
    return workflow


async def pause(db: Database, params: WorkflowPauseParams) -> Workflow:
    named = {"namespace_id": params.namespace_id, "workflow_name": params.workflow_name}
    async with db.transaction() as conn:
        if params.paused:
            await fetch(conn, "workflow_pause", {**named, "reason": params.reason})
        else:
            await fetch(conn, "workflow_resume", named)
            await fetch(conn, "workflow_crashes_reset", named)
            # Wake the polls of every server: the workflow's due runs are claimable again.
            for queue in await fetch(conn, "workflow_queues", named):
                await fetch(conn, "run_notify", {**named, "task_queue": queue["task_queue"]})
        return await _workflow(
            conn,
            WorkflowGetParams(params.namespace_id, params.workflow_name, params.online_window),
        )
