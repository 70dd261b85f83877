"""Plain-text tables per backend and one Markdown table for docs/benchmarks.md."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from bench import pg
from bench.commit_rate import CommitRate
from bench.pickup import PickupResult
from bench.targets import SERVER_POOL_SIZE
from bench.workload import WorkloadResult

Rows = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class BackendResult:
    database: str
    durability: str
    workload: WorkloadResult
    pickup: PickupResult
    commit_rate: CommitRate

    @property
    def all_runs_completed(self) -> bool:
        return self.workload.verification.ok and self.pickup.verification.ok

    @property
    def errors(self) -> list[str]:
        return [*self.workload.worker.errors, *self.pickup.worker_errors]

    def steps_per_commit(self, rate: float | None) -> str:
        return "n/a" if rate is None else f"{self.workload.steps_per_second / rate:.2f}"


@dataclass(frozen=True, slots=True)
class Environment:
    command: str
    date: str
    cores: int

    @classmethod
    def of(cls, module: str, argv: Sequence[str]) -> Environment:
        """Today's run of `python -m <module> <argv>`, passwords masked."""
        shown = [pg.mask_password(arg) for arg in argv]
        today = datetime.datetime.now(datetime.UTC).date().isoformat()
        command = shlex.join(["python", "-m", module, *shown])
        return cls(command=command, date=today, cores=os.cpu_count() or 1)

    def describe(self) -> str:
        return (
            f"{self.cores} CPU cores shared by the server process, the benchmark process "
            f"(client and worker) and the database; Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}"
        )


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _workload_rows(w: WorkloadResult) -> Rows:
    c = w.config
    timed_out = " TIMED OUT" if w.timed_out else ""
    return [
        ("workload", f"{c.runs} runs x {c.steps} no-op steps, {c.slots} worker slots"),
        (
            "StartWorkflow rate",
            f"{_n(w.starts_per_second)} starts/s ({c.runs} calls from "
            f"{c.start_concurrency} concurrent callers in {w.start_seconds:.2f} s)",
        ),
        (
            "execution wall time",
            f"{w.execute_seconds:.2f} s (first poll -> last CompleteWorkflow){timed_out}",
        ),
        ("CPU during execution", f"cores busy: {w.cpu.describe()}"),
        ("runs/s", _n(w.runs_per_second)),
        ("steps/s", _n(w.steps_per_second)),
        (
            "worker RPCs/s",
            f"{_n(w.worker_rpcs_per_second)} ({w.worker.rpcs} RPCs; "
            f"{w.worker.polls} polls, {w.worker.empty_polls} empty)",
        ),
        ("verified (workload)", w.verification.summary()),
    ]


def _pickup_rows(p: PickupResult) -> Rows:
    return [
        (
            "pickup p50 / p99 / max",
            f"{p.p50:.1f} / {p.p99:.1f} / {p.max:.1f} ms ({len(p.latencies_ms)} samples)",
        ),
        ("verified (pickup)", p.verification.summary()),
    ]


def _commit_rows(result: BackendResult) -> Rows:
    c = result.commit_rate
    rows = [
        ("database durability", result.durability),
        ("raw commits/s, 1 connection", _n(c.serial)),
        ("steps per raw commit (1 conn.)", result.steps_per_commit(c.serial)),
    ]
    if c.concurrent is None:
        return [*rows, ("raw commits/s, concurrent", "n/a (SQLite has one writer)")]
    return [
        *rows,
        (f"raw commits/s, {c.concurrency} connections", _n(c.concurrent)),
        (f"steps per raw commit ({c.concurrency} conn.)", result.steps_per_commit(c.concurrent)),
    ]


def backend_table(result: BackendResult) -> str:
    errors = result.errors
    rows = [
        *_workload_rows(result.workload),
        *_pickup_rows(result.pickup),
        *_commit_rows(result),
        ("worker errors", f"{len(errors)}, first: {errors[0]}" if errors else "none"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [
        result.database,
        f"  {'metric'.ljust(width)}  value",
        f"  {'-' * width}  {'-' * 50}",
    ]
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    return "\n".join(lines)


_CONN = f"(1 / {SERVER_POOL_SIZE} conn.)"
_MARKDOWN_HEADER = (
    f"| backend | runs/s | steps/s | starts/s | pickup p50 | pickup p99 | raw commits/s {_CONN} "
    f"| steps per raw commit {_CONN} | all runs completed |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
)


def _markdown_row(r: BackendResult) -> str:
    w, p, c = r.workload, r.pickup, r.commit_rate
    concurrent = "n/a" if c.concurrent is None else _n(c.concurrent)
    cells = [
        r.database,
        _n(w.runs_per_second),
        _n(w.steps_per_second),
        _n(w.starts_per_second),
        f"{p.p50:.1f} ms",
        f"{p.p99:.1f} ms",
        f"{_n(c.serial)} / {concurrent}",
        f"{r.steps_per_commit(c.serial)} / {r.steps_per_commit(c.concurrent)}",
        "yes" if r.all_runs_completed else "**NO**",
    ]
    return "| " + " | ".join(cells) + " |"


def markdown(results: Sequence[BackendResult], env: Environment) -> str:
    w = results[0].workload.config
    samples = len(results[0].pickup.latencies_ms)
    return "\n".join(
        [
            f"Reference workload: {w.runs} runs x {w.steps} no-op steps, {w.slots} worker "
            f"slots, through gRPC to a server process; pickup latency over {samples} "
            "samples (StartWorkflow sent -> an idle worker's long poll returned the run).",
            "",
            _MARKDOWN_HEADER,
            *(_markdown_row(r) for r in results),
            "",
            f"`{env.command}` on {env.date}; {env.describe()}.",
        ]
    )
