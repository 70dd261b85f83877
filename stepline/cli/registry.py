"""`stepline workflows list|get|pause|resume` and `stepline workers list`: the workflow
registry through the async Client, as tables or (--output json) the REST JSON."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from rich.table import Table
from rich.text import Text

from stepline import Client
from stepline.cli import render

_PREFIX = "WORKFLOW_RUN_STATUS_"


async def list_workflows(client: Client, args: argparse.Namespace) -> int:
    workflows = await client.list_workflows()
    if args.output == "json":
        render.print_json(workflows)
        return 0
    table = _table("WORKFLOW", "NEWEST VERSION", "STATE", "WORKERS", "UNFINISHED RUNS")
    for workflow in workflows:
        versions = workflow.get("versions", [])
        table.add_row(
            workflow["workflowName"],
            versions[0].get("version", "") if versions else "",
            _state(workflow),
            str(workflow.get("workersOnline", 0)),
            _counts(workflow.get("runCounts", [])),
        )
    render.show(table)
    return 0


async def get_workflow(client: Client, args: argparse.Namespace) -> int:
    _show_workflow(await client.get_workflow(args.workflow), args)
    return 0


async def pause_workflow(client: Client, args: argparse.Namespace) -> int:
    _show_workflow(await client.pause_workflow(args.workflow, args.reason), args)
    return 0


async def resume_workflow(client: Client, args: argparse.Namespace) -> int:
    _show_workflow(await client.resume_workflow(args.workflow), args)
    return 0


async def list_workers(client: Client, args: argparse.Namespace) -> int:
    workers = await client.list_workers(args.task_queue)
    if args.output == "json":
        render.print_json(workers)
        return 0
    table = _table("WORKER", "QUEUE", "WORKFLOWS", "ACTIVE RUNS", "STATE", "LAST SEEN (UTC)")
    for worker in workers:
        served = ", ".join(
            f"{w['workflowName']}@{w.get('version', '')}" for w in worker.get("workflows", [])
        )
        table.add_row(
            worker["workerId"],
            worker["taskQueue"],
            served,
            str(worker.get("activeRuns", 0)),
            Text("online", style="green") if worker.get("online") else Text("gone", style="dim"),
            worker.get("lastSeenAt", ""),
        )
    render.show(table)
    return 0


def _show_workflow(workflow: dict[str, Any], args: argparse.Namespace) -> None:
    if args.output == "json":
        render.print_json(workflow)
        return
    render.show(Text.assemble(f"{workflow['workflowName']} ", _state(workflow)))
    if workflow.get("pausedReason"):
        render.show(Text(f"paused: {workflow['pausedReason']}"))
    limits = _limits(workflow)
    if limits:
        render.show(Text(f"concurrency limits: {limits}"))
    table = _table("VERSION", "WORKERS ONLINE", "RUNS", "POISON RUNS", "REGISTERED (UTC)")
    for version in workflow.get("versions", []):
        waiting = not version.get("workersOnline") and version.get("runCounts")
        table.add_row(
            version.get("version", "") or "(none)",
            str(version.get("workersOnline", 0)),
            Text(_counts(version.get("runCounts", [])), style="yellow" if waiting else ""),
            _poison_policy(version),
            version.get("registeredAt", ""),
        )
    render.show(table)


def _limits(workflow: dict[str, Any]) -> str:
    """The limits in force, as "2 running, 1 per key"; empty when there are none."""
    parts = []
    if workflow.get("maxConcurrency"):
        parts.append(f"{workflow['maxConcurrency']} running")
    if workflow.get("maxConcurrencyPerKey"):
        parts.append(f"{workflow['maxConcurrencyPerKey']} per key")
    return ", ".join(parts)


def _poison_policy(version: dict[str, Any]) -> str:
    """The version's poison policy: "fail after 3 crashes", "pause after the server's
    max crashes", "never" (a limit of 0)."""
    limit = version.get("maxCrashes")
    if limit == 0:
        return "never"
    action = "pause" if version.get("onPoison") == "POISON_ACTION_PAUSE" else "fail"
    after = "the server's max crashes" if limit is None else f"{limit} crashes"
    return f"{action} after {after}"


def _table(*columns: str) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in columns:
        table.add_column(column, no_wrap=True)
    return table


def _state(workflow: dict[str, Any]) -> Text:
    return Text("paused", style="yellow") if workflow.get("paused") else Text("active", "green")


def _counts(counts: list[dict[str, Any]]) -> str:
    return ", ".join(f"{c['status'].removeprefix(_PREFIX).lower()} {c['count']}" for c in counts)


Action = Callable[[Client, argparse.Namespace], Awaitable[int]]
WORKFLOW_ACTIONS: dict[str, Action] = {
    "list": list_workflows,
    "get": get_workflow,
    "pause": pause_workflow,
    "resume": resume_workflow,
}
WORKER_ACTIONS: dict[str, Action] = {"list": list_workers}
