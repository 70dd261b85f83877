"""`python -m bench.ab --base REF`: before/after of a change, in one run.

The working tree ("after") and a git ref ("before", exported with `git archive` into a
temporary folder) each get a `stepline-server` process on one throwaway PostgreSQL
database, and take turns (A B B A ...) running `make bench-peers`'s stepline workload
(bench/peer_stepline.py, run with each side's own SDK): 1000 runs x 4 no-op steps, 100
slots, all started at once. Prints each side's runs/s and CPU per run by process, the
after ÷ before ratios, and, with `--trials`, idle pickup p50. Both sides share the
machine's drift alike; compare the ratios, not figures from other runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench import pg
from bench.cpu_trace import CpuTrace, PostgresProcesses, process_tree
from bench.options import positive_int, progress
from bench.peers import _SL_TABLES, _WINDOWS, STEPLINE, Load, _result_of
from bench.server import READY_LINE, _running

TAG = "bench.ab"
DRIVER = Path(__file__).resolve().parent / "peer_stepline.py"
REPO_ROOT = DRIVER.parent.parent
GROUPS = ("server", "load", "postgres")


@dataclass(frozen=True, slots=True)
class Options:
    base: str
    rounds: int
    runs: int
    trials: int
    server_args: tuple[str, ...]
    postgres_admin_url: str
    before_args: tuple[str, ...] = ()
    after_args: tuple[str, ...] = ()
    driver_args: tuple[str, ...] = ()


@dataclass
class Side:
    name: str
    root: Path
    address: str = ""
    pid: int = 0
    runs_per_second: list[float] = field(default_factory=list)
    cpu: list[dict[str, float]] = field(default_factory=list)
    pickup_ms: list[float] = field(default_factory=list)

    def median_cpu(self, group: str) -> float:
        return statistics.median(c[group] for c in self.cpu)

    def median_total(self) -> float:
        return statistics.median(sum(c.values()) for c in self.cpu)


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument(
        "--base",
        default="HEAD",
        help="the 'before' git ref; default HEAD; '.' for the working tree on both sides "
        "(to compare server flags)",
    )
    parser.add_argument("--rounds", type=positive_int, default=2, help="A B B A pairs")
    parser.add_argument("--runs", type=positive_int, default=1000)
    parser.add_argument("--trials", type=int, default=0, help="pickup samples per side")
    parser.add_argument(
        "--server-arg", action="append", default=[], help="an extra `serve` flag for both sides"
    )
    parser.add_argument("--before-arg", action="append", default=[], help="before side only")
    parser.add_argument("--after-arg", action="append", default=[], help="after side only")
    parser.add_argument(
        "--driver-arg", action="append", default=[], help="a bench.peer_stepline flag, both sides"
    )
    parser.add_argument("--postgres-admin-url", default=pg.default_admin_url())
    args = parser.parse_args(argv)
    return Options(
        args.base,
        args.rounds,
        args.runs,
        args.trials,
        tuple(args.server_arg),
        args.postgres_admin_url,
        tuple(args.before_arg),
        tuple(args.after_arg),
        tuple(args.driver_arg),
    )


def export(ref: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "archive", ref], cwd=REPO_ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root)}


@contextlib.asynccontextmanager
async def serving(side: Side, url: str, extra: tuple[str, ...]) -> AsyncIterator[None]:
    command = [
        sys.executable,
        "-m",
        "services.cli",
        "serve",
        "--database-url",
        url,
        "--grpc-address",
        "127.0.0.1:0",
        "--http-address",
        "",
        *extra,
    ]
    # cwd first on sys.path (python -m): each side's own code.
    async with _running(command, [READY_LINE], _env(side.root), cwd=side.root) as (pid, found):
        side.pid, side.address = pid, found[0]
        yield


async def _empty(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"TRUNCATE {_SL_TABLES} CASCADE")
        await conn.execute("CHECKPOINT")


def _driver(side: Side, mode: str, options: Options) -> list[str]:
    return [
        sys.executable,
        str(DRIVER),
        f"--target={side.address}",
        f"--mode={mode}",
        f"--runs={options.runs}",
        f"--trials={options.trials}",
        *options.driver_args,
    ]


async def overlap(side: Side, url: str, options: Options, trace: CpuTrace, load: Load) -> None:
    await _empty(url)
    command = _driver(side, "overlap", options)
    result = await _result_of(command, {"PYTHONPATH": str(side.root)}, side.root, load)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        row = await (await conn.execute(_WINDOWS[STEPLINE])).fetchone()
    assert row is not None
    start, end, runs, completed, with_steps = row
    if not runs == completed == with_steps == options.runs:
        raise RuntimeError(f"{side.name}: {completed}/{runs} completed, {with_steps} with steps")
    side.runs_per_second.append(float(result["wf_per_s"]))
    side.cpu.append({g: 1000 * trace.cpu_between(g, start, end) / options.runs for g in GROUPS})
    progress(f"{side.name}: {side.runs_per_second[-1]:,.0f} runs/s", TAG)


async def run(options: Options) -> tuple[Side, Side]:
    with tempfile.TemporaryDirectory(prefix="stepline-ab-") as scratch:
        base = REPO_ROOT if options.base == "." else Path(scratch)
        if options.base != ".":
            export(options.base, base)
        before, after = Side("before", base), Side("after", REPO_ROOT)
        async with pg.throwaway_database(options.postgres_admin_url) as url:
            database = url.rsplit("/", 1)[1]
            async with (
                serving(before, url, options.server_args + options.before_args),
                serving(after, url, options.server_args + options.after_args),
            ):
                load = Load()
                current: list[Side] = [before]
                groups: dict[str, Callable[[], list[int]]] = {
                    "server": lambda: process_tree(current[0].pid),
                    "load": load.pids,
                    "postgres": PostgresProcesses(database),
                }
                with CpuTrace(groups) as trace:
                    for side in [before, after, after, before] * options.rounds:
                        current[0] = side
                        trace.sample()
                        await overlap(side, url, options, trace, load)
                    for side in (before, after) if options.trials else ():
                        await _empty(url)
                        command = _driver(side, "latency", options)
                        env = {"PYTHONPATH": str(side.root)}
                        result = await _result_of(command, env, side.root, load)
                        side.pickup_ms = [float(ms) for ms in result["pickup_ms_all"]]
    return before, after


def table(before: Side, after: Side) -> str:
    def row(label: str, b: float, a: float, unit: str = "") -> str:
        return f"| {label} | {b:,.1f}{unit} | {a:,.1f}{unit} | {a / b:.2f} |"

    lines = [
        "| stepline, SDK workload | before | after | after ÷ before |",
        "| --- | ---: | ---: | ---: |",
        row(
            "runs/s (median)",
            statistics.median(before.runs_per_second),
            statistics.median(after.runs_per_second),
        ),
    ]
    for group, label in zip(GROUPS, ("server", "worker + client", "PostgreSQL"), strict=True):
        lines.append(
            row(f"CPU per run: {label}", before.median_cpu(group), after.median_cpu(group), " ms")
        )
    lines.append(row("CPU per run: total", before.median_total(), after.median_total(), " ms"))
    if before.pickup_ms and after.pickup_ms:
        lines.append(
            row(
                "idle pickup p50",
                statistics.median(before.pickup_ms),
                statistics.median(after.pickup_ms),
                " ms",
            )
        )
    each = ", ".join(f"{x:,.0f}" for x in before.runs_per_second)
    lines.append(f"\nbefore each round: {each}")
    lines.append("after each round: " + ", ".join(f"{x:,.0f}" for x in after.runs_per_second))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(sys.argv[1:] if argv is None else argv)
    before, after = asyncio.run(run(options))
    base = "the working tree" if options.base == "." else options.base
    print(
        f"before = {base} {' '.join(options.before_args)}, "
        f"after = the working tree {' '.join(options.after_args)}"
    )
    print(table(before, after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
