"""`python -m bench.peers` (`make bench-peers`): stepline next to OpenWorkflow on
OpenWorkflow's own workload, on one PostgreSQL, in one run.

OpenWorkflow runs from its harness (`ow_bench.mjs`, copied from `../shared/peers/openworkflow`
into `.bench-peers/` and installed there with `npm ci` by `make bench-peers`); stepline
runs the same workload through its SDK (`bench/peer_stepline.py`: the `Worker` and the
`Client` in one process, like the harness's one node process) against a
`stepline-server` process. Both use one throwaway database: OpenWorkflow its schema
`openworkflow`, stepline its own tables; each system's tables are emptied before each of
its runs.

The systems alternate (A B, B A, A B, ...), `--rounds` overlap runs each: 1000 runs x 4
no-op steps, 100 worker slots, every run started at once while the worker is idle,
clocked from the first start to the last completion. Then idle pickup latency (start ->
entry of the first step), `--trials` samples each. CPU per run is split by process
(stepline's server, the load process: worker and client, PostgreSQL's processes for this
database) over the database's own window of the run (first run created -> last run
finished), from /proc samples taken by this process, which is in none of the groups.
Every run is checked COMPLETED with exactly its four completed steps.

Without node (or npm), OpenWorkflow is skipped with a message and stepline is measured alone.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench import pg
from bench.cpu_trace import CpuTrace, PostgresProcesses, process_tree
from bench.options import positive_int, progress
from bench.report import Environment
from bench.server import REPO_ROOT, running_server

TAG = "bench.peers"
HARNESS_DIR = REPO_ROOT / ".bench-peers"
HARNESS = "ow_bench.mjs"
OPENWORKFLOW = "OpenWorkflow"
STEPLINE = "stepline"
RUN_TIMEOUT = 900.0
TARGET_RATIO = 1.5
TARGET_DB_CPU_RATIO = 0.5
TARGET_PICKUP_MS = 10.0

_OW_TABLES = "openworkflow.workflow_runs, openworkflow.step_attempts, openworkflow.workflow_signals"
_SL_TABLES = "stepline_step_attempts, stepline_workflow_runs"
# (first created, last finished, runs, completed runs, runs with exactly 4 completed steps)
_WINDOW_SQL = """
SELECT extract(EPOCH FROM min(r.created_at))::float8,
    extract(EPOCH FROM max(r.finished_at))::float8,
    count(*), count(*) FILTER (WHERE r.status = {completed}),
    count(*) FILTER (WHERE s.attempts = 4 AND s.completed = 4 AND s.names = 4)
FROM {runs} AS r LEFT JOIN (
    SELECT {run_id} AS run_id, count(*) AS attempts,
        count(*) FILTER (WHERE status = {completed}) AS completed,
        count(DISTINCT {step_name}) AS names
    FROM {steps} GROUP BY {run_id}
) AS s ON s.run_id = r.id
"""
_WINDOWS = {
    OPENWORKFLOW: _WINDOW_SQL.format(
        runs="openworkflow.workflow_runs",
        steps="openworkflow.step_attempts",
        run_id="workflow_run_id",
        step_name="step_name",
        completed="'completed'",
    ),
    STEPLINE: _WINDOW_SQL.format(
        runs="stepline_workflow_runs",
        steps="stepline_step_attempts",
        run_id="workflow_run_id",
        step_name="step_id",
        completed="'COMPLETED'",
    ),
}


@dataclass(frozen=True, slots=True)
class Options:
    rounds: int
    runs: int
    concurrency: int
    trials: int
    processes: int
    postgres_admin_url: str
    systems: tuple[str, ...] = ("openworkflow", "stepline")
    connections: int = 1


@dataclass(frozen=True, slots=True)
class Overlap:
    system: str
    runs_per_second: float
    cpu_ms_per_run: dict[str, float]
    """By process group: server, load (worker and client), postgres."""
    verified: str
    ok: bool


@dataclass
class SystemResult:
    name: str
    overlaps: list[Overlap] = field(default_factory=list)
    pickup_ms: list[float] = field(default_factory=list)

    @property
    def runs_per_second(self) -> float:
        return statistics.median(o.runs_per_second for o in self.overlaps)

    def cpu(self, group: str) -> float:
        return statistics.median(o.cpu_ms_per_run.get(group, 0.0) for o in self.overlaps)

    @property
    def cpu_total(self) -> float:
        return statistics.median(sum(o.cpu_ms_per_run.values()) for o in self.overlaps)

    @property
    def pickup_p50(self) -> float | None:
        return statistics.median(self.pickup_ms) if self.pickup_ms else None

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.overlaps)


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__)
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--runs", type=positive_int, default=1000)
    parser.add_argument("--concurrency", type=positive_int, default=100)
    parser.add_argument(
        "--trials", type=int, default=20, help="pickup samples per system; 0 skips; default 20"
    )
    parser.add_argument(
        "--processes", type=positive_int, default=1, help="stepline server processes; default 1"
    )
    parser.add_argument(
        "--connections",
        type=positive_int,
        help="stepline workers and clients, each on a channel of its own, sharing the slots "
        "and the starts (to spread the load over server processes); default: --processes",
    )
    parser.add_argument("--postgres-admin-url", default=pg.default_admin_url())
    parser.add_argument(
        "--systems",
        type=_systems,
        default=_SYSTEM_NAMES,
        help="openworkflow,stepline (default) or either alone",
    )
    args = parser.parse_args(argv)
    return Options(
        args.rounds,
        args.runs,
        args.concurrency,
        args.trials,
        args.processes,
        args.postgres_admin_url,
        args.systems,
        args.connections or args.processes,
    )


_SYSTEM_NAMES = ("openworkflow", "stepline")


def _systems(text: str) -> tuple[str, ...]:
    names = tuple(name.strip().lower() for name in text.split(",") if name.strip())
    if not names or any(name not in _SYSTEM_NAMES for name in names):
        raise argparse.ArgumentTypeError(f"choose from {','.join(_SYSTEM_NAMES)}")
    return names


def openworkflow_available() -> str | None:
    """None when the harness can run, else why not."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (HARNESS_DIR / HARNESS).exists() or not (HARNESS_DIR / "node_modules").is_dir():
        return f"the harness is not installed in {HARNESS_DIR.name}/ (run `make bench-peers`)"
    return None


def openworkflow_version() -> str:
    package = HARNESS_DIR / "node_modules" / "openworkflow" / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "?"


class Load:
    """The process that plays client and worker for one run; its pid for the CPU trace."""

    def __init__(self) -> None:
        self.pid: int | None = None

    def pids(self) -> list[int]:
        return [] if self.pid is None else [self.pid]


async def _result_of(command: list[str], env: dict[str, str], cwd: Path, load: Load) -> Any:
    """Run a load process to its end; its `RESULT {json}` line."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env={**os.environ, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    load.pid = process.pid
    try:
        out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    for line in out.decode().splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    tail = "\n".join(err.decode().splitlines()[-20:])
    raise RuntimeError(f"{command[:3]} exited {process.returncode} without a RESULT:\n{tail}")


class Bench:
    def __init__(self, options: Options, url: str, address: str, trace: CpuTrace, load: Load):
        self.options = options
        self.url = url
        self.address = address
        self.trace = trace
        self.load = load

    def command(self, system: str, mode: str) -> tuple[list[str], dict[str, str], Path]:
        o = self.options
        if system == OPENWORKFLOW:
            env = {
                "PEERBENCH_URL": self.url,
                "MODE": mode,
                "RUNS": str(o.runs),
                "CONCURRENCY": str(o.concurrency),
                "N": str(o.trials),
            }
            return ["node", HARNESS], env, HARNESS_DIR
        command = [
            sys.executable,
            "-m",
            "bench.peer_stepline",
            f"--target={self.address}",
            f"--mode={mode}",
            f"--runs={o.runs}",
            f"--concurrency={o.concurrency}",
            f"--trials={o.trials}",
            f"--connections={o.connections}",
        ]
        return command, {}, REPO_ROOT

    async def empty(self, system: str) -> None:
        tables = _OW_TABLES if system == OPENWORKFLOW else _SL_TABLES
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            exists = await (
                await conn.execute("SELECT to_regclass('openworkflow.workflow_runs')")
            ).fetchone()
            if system == OPENWORKFLOW and (exists is None or exists[0] is None):
                return  # created by the harness on its first run
            await conn.execute(f"TRUNCATE {tables} CASCADE")
            await conn.execute("CHECKPOINT")

    async def overlap(self, system: str) -> Overlap:
        await self.empty(system)
        command, env, cwd = self.command(system, "overlap")
        result = await _result_of(command, env, cwd, self.load)
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            row = await (await conn.execute(_WINDOWS[system])).fetchone()
        assert row is not None
        start, end, runs, completed, with_steps = row
        cpu = {
            group: 1000 * self.trace.cpu_between(group, start, end) / self.options.runs
            for group in ("server", "load", "postgres")
        }
        if system == OPENWORKFLOW:
            cpu.pop("server")
        ok = runs == completed == with_steps == self.options.runs
        verified = (
            f"{completed}/{self.options.runs} runs completed, {with_steps} with exactly "
            "4 completed steps"
        )
        return Overlap(system, float(result["wf_per_s"]), cpu, verified, ok)

    async def pickup(self, system: str) -> list[float]:
        await self.empty(system)
        command, env, cwd = self.command(system, "latency")
        result = await _result_of(command, env, cwd, self.load)
        return [float(ms) for ms in result["pickup_ms_all"]]


def _order(systems: list[str], rounds: int) -> list[str]:
    """A B, B A, A B, ...: a drift of the machine weighs on both alike."""
    order: list[str] = []
    for n in range(rounds):
        order += systems if n % 2 == 0 else systems[::-1]
    return order


async def run(options: Options) -> tuple[dict[str, SystemResult], str]:
    systems = [STEPLINE] if "stepline" in options.systems else []
    if "openworkflow" in options.systems:
        skipped = openworkflow_available()
        if skipped is None:
            systems.insert(0, OPENWORKFLOW)
        else:
            progress(f"OpenWorkflow skipped: {skipped}; measuring stepline alone", TAG)
    results = {name: SystemResult(name) for name in systems}
    async with pg.throwaway_database(options.postgres_admin_url) as url:
        database = url.rsplit("/", 1)[1].split("?")[0]
        version, _ = await pg.describe(url)
        async with running_server(url, processes=options.processes) as server:
            load = Load()
            groups: dict[str, Callable[[], list[int]]] = {
                "server": lambda: process_tree(server.pid),
                "load": load.pids,
                "postgres": PostgresProcesses(database),
            }
            with CpuTrace(groups) as trace:
                bench = Bench(options, url, server.address, trace, load)
                for system in _order(systems, options.rounds):
                    overlap = await bench.overlap(system)
                    results[system].overlaps.append(overlap)
                    progress(
                        f"{system}: {overlap.runs_per_second:,.0f} runs/s; {overlap.verified}", TAG
                    )
                if options.trials > 0:
                    for system in systems:
                        results[system].pickup_ms = await bench.pickup(system)
                        progress(f"{system}: pickup p50 {results[system].pickup_p50:.1f} ms", TAG)
    return results, version


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def markdown(results: dict[str, SystemResult], version: str, options: Options, command: str) -> str:
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    lines = [
        "| system | runs/s (median) | each round | CPU per run: server | worker + client "
        "| PostgreSQL | total | idle pickup p50 | all runs verified |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, r in results.items():
        label = (
            f"{OPENWORKFLOW} {openworkflow_version()}" if name == OPENWORKFLOW else "stepline (SDK)"
        )
        server = "—" if name == OPENWORKFLOW else _ms(r.cpu("server"))
        load = _ms(r.cpu("load")) + (" (node)" if name == OPENWORKFLOW else "")
        each = ", ".join(f"{o.runs_per_second:,.0f}" for o in r.overlaps)
        lines.append(
            f"| {label} | {r.runs_per_second:,.0f} | {each} | {server} | {load} "
            f"| {_ms(r.cpu('postgres'))} | {_ms(r.cpu_total)} | {_ms(r.pickup_p50)} "
            f"| {'yes' if r.ok else '**NO**'} |"
        )
    lines += ["", *_verdicts(results), ""]
    lines.append(
        f"`{command}` on {today}: {options.runs} runs x 4 no-op steps, {options.concurrency} "
        f"worker slots, {options.rounds} rounds alternating, {options.processes} stepline "
        f"server process(es), {options.connections} SDK worker and client connection(s); "
        f"{version}; {os.cpu_count()} CPU cores shared by everything; "
        f"Python {platform.python_version()}."
    )
    return "\n".join(lines)


def _verdicts(results: dict[str, SystemResult]) -> list[str]:
    sl = results.get(STEPLINE)
    ow = results.get(OPENWORKFLOW)
    lines: list[str] = []
    if sl is None:
        return lines
    if ow is not None:
        ratio = sl.runs_per_second / ow.runs_per_second
        db = sl.cpu("postgres") / ow.cpu("postgres")
        lines.append(
            f"- stepline ÷ OpenWorkflow runs/s: **{ratio:.2f}** (target ≥ {TARGET_RATIO}); "
            f"PostgreSQL CPU per run: **{db:.2f}** (target ≤ {TARGET_DB_CPU_RATIO}); "
            f"total CPU per run: {sl.cpu_total / ow.cpu_total:.2f}"
        )
    if sl.pickup_p50 is not None:
        met = "met" if sl.pickup_p50 < TARGET_PICKUP_MS else "NOT met"
        target = f"target < {TARGET_PICKUP_MS:g} ms: {met}"
        lines.append(f"- stepline idle pickup p50 {sl.pickup_p50:.1f} ms ({target})")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    options = parse_options(argv)
    command = Environment.of("bench.peers", argv).command
    results, version = asyncio.run(run(options))
    for r in results.values():
        for o in r.overlaps:
            if not o.ok:
                print(f"{r.name}: LOST WORK: {o.verified}")
    print(markdown(results, version, options, command))
    return 0 if all(r.ok for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
