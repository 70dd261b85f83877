"""`stepline schedules create|get|list|delete|pause|resume|trigger`."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable

from google.protobuf import json_format
from rich.table import Table
from rich.text import Text

from stepline import Client, Schedule
from stepline.cli import render, values


def add_parser(schedules: argparse.ArgumentParser, anywhere: argparse.ArgumentParser) -> None:
    actions = schedules.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, text: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, parents=[anywhere], help=text)
        parser.add_argument("schedule_id", metavar="SCHEDULE_ID")
        return parser

    _add_create(action("create", "create a schedule that starts runs by cron or interval"))
    action("get", "show one schedule")
    actions.add_parser("list", parents=[anywhere], help="list the namespace's schedules")
    action("delete", "delete a schedule (its runs stay)")
    action("pause", "pause a schedule: it fires nothing until resumed")
    action("resume", "resume a paused schedule from its next fire after now")
    action("trigger", "start one run of the schedule now")


def _add_create(create: argparse.ArgumentParser) -> None:
    create.add_argument("--workflow", required=True, help="the workflow each fire starts")
    when = create.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--cron", metavar="EXPR", help="5 fields, or 6 with seconds first ('0 3 * * *')"
    )
    when.add_argument(
        "--every", metavar="DURATION", type=values.duration, help="a fixed interval (10m)"
    )
    create.add_argument("--timezone", default="UTC", help="IANA zone of --cron (default UTC)")
    create.add_argument(
        "--input",
        metavar="JSON",
        type=values.json_value,
        default=None,
        help="each run's input: JSON, @file with JSON, or - to read stdin",
    )
    create.add_argument("--version", default="", help="the workflow version of each run")
    create.add_argument("--task-queue", metavar="QUEUE", default="default")
    create.add_argument(
        "--overlap",
        choices=("skip", "buffer-one", "allow-all"),
        default="skip",
        help="while the last run is active: skip the fire (default), keep one, or start anyway",
    )
    create.add_argument(
        "--catchup-window",
        metavar="DURATION",
        type=values.duration,
        default=None,
        help="how late a missed fire may still start (default 1m)",
    )
    create.add_argument(
        "--priority", type=int, choices=range(1, 6), metavar="1-5", default=0, help="default 3"
    )
    create.add_argument("--paused", action="store_true", help="create it paused")


async def create(client: Client, args: argparse.Namespace) -> int:
    schedule = await client.create_schedule(
        args.schedule_id,
        args.workflow,
        args.input,
        cron=args.cron or "",
        interval=args.every,
        timezone=args.timezone,
        version=args.version,
        task_queue=args.task_queue,
        overlap=args.overlap.replace("-", "_"),
        catchup_window=args.catchup_window,
        priority=args.priority,
        paused=args.paused,
    )
    _show(schedule, args, "created schedule")
    return 0


async def get(client: Client, args: argparse.Namespace) -> int:
    _show(await client.get_schedule(args.schedule_id), args, None)
    return 0


async def list_schedules(client: Client, args: argparse.Namespace) -> int:
    found = [schedule async for schedule in client.list_schedules()]
    if args.output == "json":
        render.print_json([_to_dict(s) for s in found])
    else:
        render.show(schedules_table(found))
    return 0


async def delete(client: Client, args: argparse.Namespace) -> int:
    await client.delete_schedule(args.schedule_id)
    if args.output == "json":
        render.print_json({})
    else:
        render.show(f"deleted schedule {args.schedule_id}")
    return 0


async def pause(client: Client, args: argparse.Namespace) -> int:
    _show(await client.pause_schedule(args.schedule_id), args, "paused schedule")
    return 0


async def resume(client: Client, args: argparse.Namespace) -> int:
    _show(await client.resume_schedule(args.schedule_id), args, "resumed schedule")
    return 0


async def trigger(client: Client, args: argparse.Namespace) -> int:
    schedule, run_id = await client.trigger_schedule(args.schedule_id)
    if args.output == "json":
        render.print_json({"schedule": _to_dict(schedule), "runId": run_id})
    else:
        render.show(f"started run {run_id} of schedule {schedule.schedule_id}")
    return 0


def _to_dict(schedule: Schedule) -> dict[str, object]:
    return json_format.MessageToDict(schedule.proto)


def _show(schedule: Schedule, args: argparse.Namespace, note: str | None) -> None:
    if args.output == "json":
        render.print_json(_to_dict(schedule))
        return
    if note is not None:
        render.show(f"{note} {schedule.schedule_id}")
    render.show(schedule_detail(schedule))


def _when(schedule: Schedule) -> str:
    if schedule.cron:
        return f"{schedule.cron} ({schedule.timezone})"
    return f"every {schedule.interval}"


def schedule_detail(schedule: Schedule) -> Table:
    sheet = Table(show_header=False, box=None, pad_edge=False)
    sheet.add_column(style="bold")
    sheet.add_column()
    rows: list[tuple[str, str | Text]] = [
        ("schedule", schedule.schedule_id),
        ("fires", _when(schedule)),
        ("workflow", schedule.workflow_name),
        ("task queue", schedule.task_queue),
        ("overlap", schedule.overlap.value),
        ("state", Text("paused", style="yellow") if schedule.paused else "active"),
        ("next fire", render.when(schedule.next_fire_at) + " UTC"),
        ("last fire", render.when(schedule.last_fire_at)),
        ("last run", schedule.last_run_id),
        ("missed fires", str(schedule.missed_fires) if schedule.missed_fires else ""),
        ("skipped fires", str(schedule.skipped_fires) if schedule.skipped_fires else ""),
        ("input", render.compact(schedule.input) if schedule.input is not None else ""),
    ]
    for name, value in rows:
        if str(value):
            sheet.add_row(name, value)
    return sheet


def schedules_table(schedules: Iterable[Schedule]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("SCHEDULE", "FIRES", "WORKFLOW", "STATE", "NEXT FIRE (UTC)", "LAST RUN"):
        table.add_column(column, no_wrap=True)
    for schedule in schedules:
        table.add_row(
            schedule.schedule_id,
            _when(schedule),
            schedule.workflow_name,
            "paused" if schedule.paused else "active",
            render.when(schedule.next_fire_at),
            schedule.last_run_id,
        )
    return table


ACTIONS: dict[str, Callable[[Client, argparse.Namespace], Awaitable[int]]] = {
    "create": create,
    "get": get,
    "list": list_schedules,
    "delete": delete,
    "pause": pause,
    "resume": resume,
    "trigger": trigger,
}
