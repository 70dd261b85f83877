"""The workflow registry: registrations, the workers and workflows they make known,
pause and resume (storage/registry.py has the records)."""

from __future__ import annotations

from storage.errors import WorkflowNotFound
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
from storage.sqlite.codec import CODEC, interval_micros
from storage.sqlite.database import Tx


def register(tx: Tx, params: WorkerRegisterParams) -> Worker:
    worker = {"namespace_id": params.namespace_id, "worker_id": params.worker_id}
    tx.execute("worker_upsert", **worker, task_queue=params.task_queue)
    tx.execute("worker_workflows_clear", **worker)
    for definition in params.workflows:
        named = {"workflow_name": definition.workflow_name, "version": definition.version}
        tx.execute("worker_workflow_insert", **worker, **named)
        tx.execute("workflow_insert", **worker, **named)
        tx.execute(
            "workflow_version_upsert",
            **worker,
            **named,
            input_schema=definition.input_schema,
            triggers=definition.triggers,
            retry_policy=definition.retry_policy,
            max_concurrency=definition.max_concurrency,
            max_concurrency_per_key=definition.max_concurrency_per_key,
            priority=definition.priority,
            max_crashes=definition.max_crashes,
            on_poison=definition.on_poison.value,
        )
        _update_limits(tx, params.namespace_id, definition.workflow_name)
    for schedule in params.schedules:
        tx.execute("schedule_register", **schedule_insert_params(schedule, CODEC))
    (registered,) = _workers(tx, params.namespace_id, params.worker_id, None, params)
    return registered


def _update_limits(tx: Tx, namespace_id: str, workflow_name: str) -> None:
    """The workflow's limits follow its newest version; a limit newly set makes the runs
    RUNNING already hold slots, so that it counts them."""
    named = {"namespace_id": namespace_id, "workflow_name": workflow_name}
    changed = tx.rows("workflow_limits_update", **named)
    if changed and (changed[0]["max_concurrency"] or changed[0]["max_concurrency_per_key"]):
        tx.execute("workflow_slots_adopt", **named)
        tx.execute("workflow_runs_hold_slots", **named)


def touch(tx: Tx, params: WorkerTouchParams) -> None:
    tx.execute("worker_touch", namespace_id=params.namespace_id, worker_id=params.worker_id)


def list_workers(tx: Tx, params: WorkerListParams) -> list[Worker]:
    return _workers(tx, params.namespace_id, None, params.task_queue, params)


def _workers(
    tx: Tx,
    namespace_id: str,
    worker_id: str | None,
    task_queue: str | None,
    params: WorkerRegisterParams | WorkerListParams,
) -> list[Worker]:
    query = {
        "namespace_id": namespace_id,
        "worker_id": worker_id,
        "task_queue": task_queue,
        "online_window": interval_micros(params.online_window),
    }
    rows = tx.rows("workers_list", **query)
    workflows = tx.rows("worker_workflows_list", **query)
    return workers_from_rows(rows, workflows, CODEC)


def list_workflows(tx: Tx, params: WorkflowListParams) -> list[Workflow]:
    query = {
        "namespace_id": params.namespace_id,
        "workflow_name": None,
        "online_window": interval_micros(params.online_window),
    }
    workflows = tx.rows("workflows_list", **query)
    versions = tx.rows("workflow_versions_list", **query)
    counts = tx.rows("workflows_active_run_counts", **query)
    return workflows_from_rows(workflows, versions, counts, CODEC)


def get_workflow(tx: Tx, params: WorkflowGetParams) -> Workflow:
    query = {
        "namespace_id": params.namespace_id,
        "workflow_name": params.workflow_name,
        "online_window": interval_micros(params.online_window),
    }
    workflows = tx.rows("workflows_list", **query)
    if not workflows:
        raise WorkflowNotFound(params.namespace_id, params.workflow_name)
    versions = tx.rows("workflow_versions_list", **query)
    counts = tx.rows("workflow_run_counts", **query) if params.with_run_counts else []
    (workflow,) = workflows_from_rows(workflows, versions, counts, CODEC)
    return workflow


def pause(tx: Tx, params: WorkflowPauseParams) -> tuple[Workflow, list[str]]:
    """The workflow paused or resumed, and, when resumed, the queues to wake."""
    named = {"namespace_id": params.namespace_id, "workflow_name": params.workflow_name}
    queues: list[str] = []
    if params.paused:
        tx.execute("workflow_pause", **named, reason=params.reason)
    else:
        tx.execute("workflow_resume", **named)
        tx.execute("workflow_crashes_reset", **named)
        queues = [row["task_queue"] for row in tx.rows("workflow_queues", **named)]
    get = WorkflowGetParams(params.namespace_id, params.workflow_name, params.online_window)
    return get_workflow(tx, get), queues
