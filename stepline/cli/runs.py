"""`stepline runs start|get|list|cancel|steps|replay` through the async Client; the batch
actions are in batches.py."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

from rich.text import Text

from stepline import Client, Run, RunStatus, SteplineError
from stepline._client import KEEP_INPUT
from stepline.cli import batches, events, render

# The spinner asks the server for the run's status this often while it waits: seldom, as
# `client.wait` polls too (with its own backoff, up to one call every couple of seconds).
# The first refresh that finds the run PENDING although due also says, on stderr, that no
# worker has claimed it: `--wait` with no worker running does not wait in silence.
_STATUS_REFRESH_SECONDS = 5.0


async def start(client: Client, args: argparse.Namespace) -> int:
    run = await client.start(
        args.workflow,
        args.input,
        version=args.version,
        task_queue=args.task_queue,
        idempotency_key=args.idempotency_key,
        context=args.context,
        deadline_at=args.deadline,
        start_at=args.start_at,
        priority=args.priority,
        concurrency_key=args.concurrency_key,
    )
    for warning in run.warnings:  # on stderr, so that --output json stays parseable
        render.console(stderr=True).print(f"warning: {warning}", style="yellow")
    if args.wait:
        run = await _wait_with_spinner(client, run)
        _show_run(run, args)
        return 0 if run.status == RunStatus.COMPLETED else 1
    if args.output == "json":
        render.print_json(run.to_dict())
    else:
        note = "existing run (idempotency key matched)" if run.existing else "started run"
        render.show(Text.assemble(f"{note} {run.run_id} ", render.status_text(run.status)))
    return 0


async def _wait_with_spinner(client: Client, run: Run) -> Run:
    """Wait for the end of `run`, showing a spinner (on stderr) with its live status.

    One `client.wait` runs throughout, so its backoff holds; a slow side poll only
    refreshes the spinner's status.
    """
    stderr = render.console(stderr=True)
    with stderr.status(_waiting(run)) as spinner:
        # One line whatever the width; a workflow name is text, never rich markup.
        notify = partial(stderr.print, soft_wrap=True, markup=False, highlight=False)
        refresh = asyncio.create_task(_refresh(client, run, spinner.update, notify))
        try:
            return await client.wait(run.run_id)
        finally:
            refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresh


async def _refresh(
    client: Client, run: Run, show: Callable[[str], None], notify: Callable[[str], None]
) -> None:
    """Refresh the spinner's status; once, tell when no worker has claimed a due run."""
    noticed = False
    while True:
        await asyncio.sleep(_STATUS_REFRESH_SECONDS)
        try:
            run = await client.get(run.run_id)
        except SteplineError:
            continue  # the wait itself reports what is wrong
        show(_waiting(run))
        if not noticed and _unclaimed(run):
            noticed = True
            notify(_unclaimed_notice(run))


def _unclaimed(run: Run) -> bool:
    """PENDING although due: no worker polls its queue (or none serves its workflow).
    A delayed start or a retry's backoff is PENDING too, but not yet due."""
    due = run.available_at is None or run.available_at <= datetime.now(UTC)
    return run.status is RunStatus.PENDING and due


def _unclaimed_notice(run: Run) -> str:
    return (
        f"stepline: no worker has claimed run {run.run_id} yet: it waits on task queue "
        f"{run.task_queue!r} of namespace {run.namespace_id!r} for a worker serving "
        f"{run.workflow_name!r} (still waiting; Ctrl-C stops waiting, the run stays)"
    )


def _waiting(run: Run) -> str:
    return f"run {run.run_id} ({run.workflow_name}) is {run.status.name}…"


async def get(client: Client, args: argparse.Namespace) -> int:
    run = await client.get(args.run_id)
    if args.output == "json":
        render.print_json(run.to_dict())
        return 0
    # A run's family: its parent (a field of the run) and the child runs it started.
    children = await client.children(run.run_id)
    render.show(render.run_detail(run, children=[child.run_id for child in children]))
    return 0


async def cancel(client: Client, args: argparse.Namespace) -> int:
    _show_run(await client.cancel(args.run_id, args.reason), args)
    return 0


async def list_runs(client: Client, args: argparse.Namespace) -> int:
    runs = await _collect(client, args)
    if args.output == "json":
        render.print_json([run.to_dict() for run in runs])
    else:
        render.show(render.runs_table(runs))
    return 0


async def _collect(client: Client, args: argparse.Namespace) -> list[Run]:
    """Up to `--limit` runs (0: all), following pages of at most `--page-size`."""
    runs: list[Run] = []
    token = ""
    while True:
        wanted = args.page_size if not args.limit else min(args.page_size, args.limit - len(runs))
        page = await client.list_page(
            page_token=token,
            page_size=wanted,
            statuses=args.statuses,
            workflow_name=args.workflow,
            task_queue=args.task_queue,
            created_after=args.since,
        )
        runs.extend(page.items)
        if not page.has_more or len(runs) == args.limit:
            return runs
        token = page.next_page_token


async def replay(client: Client, args: argparse.Namespace) -> int:
    run = await client.replay(
        args.run_id,
        from_step=args.from_step,
        input=getattr(args, "input", KEEP_INPUT),
        idempotency_key=args.idempotency_key,
    )
    if args.wait:
        run = await _wait_with_spinner(client, run)
        _show_run(run, args)
        return 0 if run.status == RunStatus.COMPLETED else 1
    if args.output == "json":
        render.print_json(run.to_dict())
    else:
        note = "existing replay (idempotency key matched)" if run.existing else "replayed run"
        origin = f" from step {args.from_step}" if args.from_step else ""
        render.show(
            Text.assemble(
                f"{note} {args.run_id}{origin} as run {run.run_id} ",
                render.status_text(run.status),
            )
        )
    return 0


async def steps(client: Client, args: argparse.Namespace) -> int:
    attempts = await client.steps(args.run_id)
    if args.output == "json":
        render.print_json([step.to_dict() for step in attempts])
    else:
        render.show(render.steps_table(attempts))
    return 0


def _show_run(run: Run, args: argparse.Namespace) -> None:
    if args.output == "json":
        render.print_json(run.to_dict())
    else:
        render.show(render.run_detail(run))


ACTIONS: dict[str, Callable[[Client, argparse.Namespace], Awaitable[int]]] = {
    "start": start,
    "get": get,
    "list": list_runs,
    "cancel": cancel,
    "steps": steps,
    "signal": events.signal,
    "replay": replay,
    "batch-cancel": batches.batch_cancel,
    "batch-replay": batches.batch_replay,
}
