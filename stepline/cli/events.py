"""`stepline runs signal` and `stepline events send|get|list|runs`: the calls of runs that
wait, through the async Client."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable

from rich.table import Table
from rich.text import Text

from stepline import Client, Event
from stepline.cli import render


async def signal(client: Client, args: argparse.Namespace) -> int:
    sent = await client.signal(
        args.run_id, args.signal_name, args.payload, idempotency_key=args.idempotency_key
    )
    if args.output == "json":
        render.print_json(
            {
                "signalId": sent.signal_id,
                "runId": sent.run_id,
                "signalName": sent.signal_name,
                "payload": sent.payload,
                "consumed": sent.consumed_at is not None,
            }
        )
    else:
        where = "consumed by a waiting step" if sent.consumed_at else "kept in the run's inbox"
        render.show(Text(f"sent signal {sent.signal_name} to run {sent.run_id}: {where}"))
    return 0


async def send(client: Client, args: argparse.Namespace) -> int:
    sent = await client.send_event(args.event_name, args.data, idempotency_key=args.idempotency_key)
    if args.output == "json":
        render.print_json(
            {
                "event": _event_dict(sent.event),
                "existing": sent.existing,
                "resumedRunIds": list(sent.resumed_run_ids),
                "startedRunIds": list(sent.started_run_ids),
            }
        )
        return 0
    note = "existing event (idempotency key matched)" if sent.existing else "sent event"
    resumed = ", ".join(sent.resumed_run_ids) or "none"
    render.show(Text(f"{note} {sent.event.event_id}; resumed runs: {resumed}"))
    return 0


async def get(client: Client, args: argparse.Namespace) -> int:
    event = await client.get_event(args.event_id)
    if args.output == "json":
        render.print_json(_event_dict(event))
    else:
        render.show(events_table([event]))
    return 0


async def list_events(client: Client, args: argparse.Namespace) -> int:
    page = await client.list_events(page_size=args.limit, event_name=args.name)
    if args.output == "json":
        render.print_json([_event_dict(event) for event in page.items])
    else:
        render.show(events_table(page.items))
    return 0


async def runs(client: Client, args: argparse.Namespace) -> int:
    found = await client.event_runs(args.event_id)
    if args.output == "json":
        render.print_json(
            {
                "workflowRuns": [run.to_dict() for run in found.runs],
                "startedRunIds": list(found.started_run_ids),
                "resumedRunIds": list(found.resumed_run_ids),
            }
        )
    else:
        render.show(render.runs_table(found.runs))
    return 0


def events_table(events: Iterable[Event]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("EVENT ID", "NAME", "RECEIVED (UTC)", "DATA"):
        table.add_column(column, no_wrap=column != "DATA")
    for event in events:
        table.add_row(
            event.event_id,
            event.event_name,
            render.when(event.received_at),
            render.compact(event.data),
        )
    return table


def _event_dict(event: Event) -> dict[str, object]:
    return {
        "eventId": event.event_id,
        "eventName": event.event_name,
        "data": event.data,
        "idempotencyKey": event.idempotency_key,
        "receivedAt": event.received_at.isoformat().replace("+00:00", "Z"),
    }


ACTIONS: dict[str, Callable[[Client, argparse.Namespace], Awaitable[int]]] = {
    "send": send,
    "get": get,
    "list": list_events,
    "runs": runs,
}
