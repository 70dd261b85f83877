"""What the CLI prints: rich tables for people, proto3 JSON for scripts.

JSON mode prints `Run.to_dict()` / `Step.to_dict()` (the API's own camelCase JSON);
lists are JSON arrays, so `jq '.[].runId'` works without unwrapping.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from stepline import Failure, Run, Step

_STYLES = {
    "PENDING": "white",
    "RUNNING": "cyan",
    "SLEEPING": "magenta",
    "COMPLETED": "green",
    "FAILED": "red",
    "CANCELED": "yellow",
}
_DETAIL_WIDTH = 60


def console(*, stderr: bool = False) -> Console:
    """A console; when piped, wide enough that tables are never cut at 80 columns."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or "COLUMNS" in os.environ else 200
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def show(renderable: RenderableType) -> None:
    """Print to stdout; when piped, without the padding rich puts at the end of lines."""
    out = console()
    if out.is_terminal:
        out.print(renderable)
        return
    with out.capture() as captured:
        out.print(renderable)
    lines = captured.get().splitlines()
    sys.stdout.write("".join(line.rstrip() + "\n" for line in lines))
    sys.stdout.flush()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def status_text(status: str) -> Text:
    name = getattr(status, "name", str(status))
    return Text(name, style=_STYLES.get(name, ""))


def when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _utc(moment: datetime | None) -> str:
    return f"{when(moment)} UTC" if moment is not None else ""


def compact(value: Any, width: int = _DETAIL_WIDTH) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= width else text[: width - 1] + "…"


def failure(error: Failure | None) -> str:
    if error is None:
        return ""
    return f"{error.type}: {error.message}" if error.message else error.type


def run_detail(run: Run, children: Sequence[str] = ()) -> Table:
    """One run as a two-column sheet: field, value (and the IDs of its child runs)."""
    sheet = Table(show_header=False, box=None, pad_edge=False)
    sheet.add_column(style="bold")
    sheet.add_column()
    version = f" (version {run.version})" if run.version else ""
    rows: list[tuple[str, str | Text]] = [
        ("run", run.run_id),
        ("workflow", run.workflow_name + version),
        ("status", status_text(run.status)),
        ("task queue", run.task_queue),
        ("attempt", str(run.attempt)),
        ("priority", str(run.priority) if run.priority != 3 else ""),
        ("concurrency key", run.concurrency_key),
        ("idempotency key", run.idempotency_key),
        ("replay of", run.replay_of_run_id),
        ("parent", run.parent_run_id),
        ("children", "\n".join(children)),
        ("replays", str(run.replay_count) if run.replay_count else ""),
        ("created", _utc(run.created_at)),
        ("started", _utc(run.started_at)),
        ("finished", _utc(run.finished_at)),
        ("wakes up", _utc(run.wake_up_at)),
        ("deadline", _utc(run.deadline_at)),
        ("worker", run.worker_id),
        ("context", compact(run.context) if run.context else ""),
        ("input", _pretty(run.input)),
        ("output", _pretty(run.output) if run.output is not None else ""),
        ("error", Text(failure(run.error), style="red")),
    ]
    for name, value in rows:
        if str(value):
            sheet.add_row(name, value)
    return sheet


def runs_table(runs: Iterable[Run]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("RUN ID", "WORKFLOW", "STATUS", "QUEUE", "ATTEMPT", "CREATED (UTC)"):
        table.add_column(column, no_wrap=True)
    for run in runs:
        table.add_row(
            run.run_id,
            run.workflow_name,
            status_text(run.status),
            run.task_queue,
            str(run.attempt),
            when(run.created_at),
        )
    return table


def steps_table(steps: Iterable[Step]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("STEP", "KIND", "ATTEMPT", "STATUS", "STARTED (UTC)", "TOOK", "DETAIL"):
        table.add_column(column, no_wrap=column != "DETAIL")
    for step in steps:
        table.add_row(
            step.step_id,
            step.kind,
            str(step.attempt),
            status_text(step.status),
            when(step.started_at),
            _took(step),
            _step_detail(step),
        )
    return table


def _step_detail(step: Step) -> str:
    if step.error is not None:
        return failure(step.error)
    if step.kind == "SLEEP":
        return f"until {when(step.wake_up_at)}" if step.wake_up_at else ""
    return compact(step.output) if step.status == "COMPLETED" else ""


def _took(step: Step) -> str:
    if step.started_at is None or step.finished_at is None:
        return ""
    seconds = (step.finished_at - step.started_at).total_seconds()
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
