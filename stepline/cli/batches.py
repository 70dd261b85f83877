"""`stepline runs batch-cancel|batch-replay`: every run matching the filters, a page per
request (each page one transaction on the server), with a progress bar on stderr.

Unless `--yes` (or `--dry-run`), the runs are counted first by a dry run and the user
confirms; the count also gives the bar its total. A batch cut short (an error, Ctrl-C)
prints the `--page-token` (and `--batch-id`) that resume it: the server never acts twice
on a run for a repeated page.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.prompt import Confirm

from stepline import BatchResult, Client
from stepline.cli import render

Act = Callable[[bool, Callable[[BatchResult], object]], Awaitable[BatchResult]]
"""Run the batch (dry or not), reporting progress after each page."""


@dataclass(frozen=True)
class Operation:
    verb: str
    """"cancel" or "replay"."""
    done: str
    """"canceled" or "replayed"."""
    act: Act


async def batch_cancel(client: Client, args: argparse.Namespace) -> int:
    async def act(dry_run: bool, progress: Callable[[BatchResult], object]) -> BatchResult:
        return await client.batch_cancel(
            **_filters(args),
            reason=args.reason,
            dry_run=dry_run,
            page_size=args.page_size,
            page_token=args.page_token,
            progress=progress,
        )

    return await _run(Operation("cancel", "canceled", act), args)


async def batch_replay(client: Client, args: argparse.Namespace) -> int:
    # Made here, so that the count, the batch and a resumed batch share one name.
    batch_id = args.batch_id or str(uuid.uuid4())

    async def act(dry_run: bool, progress: Callable[[BatchResult], object]) -> BatchResult:
        return await client.batch_replay(
            **_filters(args),
            from_step=args.from_step,
            dry_run=dry_run,
            batch_id=batch_id,
            page_size=args.page_size,
            page_token=args.page_token,
            progress=progress,
        )

    return await _run(Operation("replay", "replayed", act), args)


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "statuses": args.statuses,
        "workflow_name": args.workflow,
        "task_queue": args.task_queue,
        "created_after": args.created_after,
        "created_before": args.created_before,
        "replay_of_run_id": args.replay_of,
    }


async def _run(operation: Operation, args: argparse.Namespace) -> int:
    if args.dry_run:
        counted = await _with_bar(operation, args, dry_run=True, total=None)
        _report(counted, operation, args, dry_run=True)
        return 0
    total = None
    if not args.yes:
        counted = await _with_bar(operation, args, dry_run=True, total=None)
        if counted.affected_count == 0:
            _report(counted, operation, args, dry_run=False)
            return 0
        if not _confirmed(f"{operation.verb.capitalize()} {_runs(counted.affected_count)}?"):
            render.console(stderr=True).print("aborted; nothing was changed")
            return 1
        total = counted.matched_count
    result = await _with_bar(operation, args, dry_run=False, total=total)
    _report(result, operation, args, dry_run=False)
    return 0


async def _with_bar(
    operation: Operation, args: argparse.Namespace, *, dry_run: bool, total: int | None
) -> BatchResult:
    """The batch under a progress bar on stderr (`total` runs, or a pulse if unknown)."""
    label = f"counting runs to {operation.verb}" if dry_run else f"{operation.verb} runs"
    last = BatchResult()

    def progress(totals: BatchResult) -> None:
        nonlocal last
        last = totals
        bar.update(task, completed=totals.matched_count, total=total)

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        console=render.console(stderr=True),
        transient=True,
    )
    task = bar.add_task(label, total=total)
    try:
        with bar:
            return await operation.act(dry_run, progress)
    except BaseException:
        if not dry_run and last.next_page_token:
            _resume_hint(operation, last)
        raise


def _resume_hint(operation: Operation, last: BatchResult) -> None:
    """How to go on from the last page done, printed when a batch is cut short."""
    again = f"--page-token {last.next_page_token}"
    if last.batch_id:
        again += f" --batch-id {last.batch_id}"
    message = (
        f"stepline: {operation.done} {_runs(last.affected_count)} before stopping; "
        f"resume with the same filters and {again}\n"
    )
    sys.stderr.write(message)


def _confirmed(question: str) -> bool:
    """Ask on the terminal; no answer (stdin closed) is no."""
    try:
        return Confirm.ask(question, console=render.console(stderr=True), default=False)
    except EOFError:
        return False


def _report(
    result: BatchResult, operation: Operation, args: argparse.Namespace, *, dry_run: bool
) -> None:
    if args.output == "json":
        doc: dict[str, Any] = {
            "affectedCount": result.affected_count,
            "skippedCount": result.skipped_count,
            "runIds": result.run_ids,
            "dryRun": dry_run,
        }
        if result.batch_id:
            doc["batchId"] = result.batch_id
        render.print_json(doc)
        return
    done = f"would {operation.verb}" if dry_run else operation.done
    line = f"{done} {_runs(result.affected_count)} ({result.skipped_count} skipped)"
    if result.batch_id and not dry_run:
        line += f"; batch {result.batch_id}"
    render.show(line)


def _runs(count: int) -> str:
    return f"{count} run" if count == 1 else f"{count} runs"
