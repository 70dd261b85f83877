"""`python -m bench.sdk`: the reference workload (1000 runs x 4 no-op steps, 100 slots)
executed by the SDK's Worker and by the minimal raw-gRPC worker, against the same server
process in the same run, in A-B-B-A order (so that a drift, such as the database
growing, weighs on both alike). Prints each throughput and SDK / raw.
The exit status is 1 when any run was lost or left unfinished.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from bench import pg
from bench.options import backends, positive_int, progress
from bench.report import Environment
from bench.sdk_workload import SdkWorkloadResult, sdk_workload
from bench.server import running_server
from bench.targets import BACKENDS, open_target
from bench.workload import WorkloadConfig, WorkloadResult, reference_workload

TARGET_RATIO = 0.75


@dataclass(frozen=True, slots=True)
class Options:
    backends: tuple[str, ...]
    runs: int
    steps: int
    slots: int
    rounds: int
    postgres_admin_url: str


@dataclass(frozen=True, slots=True)
class Comparison:
    database: str
    raw: tuple[WorkloadResult, ...]
    sdk: tuple[SdkWorkloadResult, ...]

    @property
    def raw_runs_per_second(self) -> float:
        return statistics.median(r.runs_per_second for r in self.raw)

    @property
    def sdk_runs_per_second(self) -> float:
        return statistics.median(r.runs_per_second for r in self.sdk)

    @property
    def ratio(self) -> float:
        return self.sdk_runs_per_second / self.raw_runs_per_second

    @property
    def all_runs_completed(self) -> bool:
        raw_ok = all(r.verification.ok and not r.timed_out for r in self.raw)
        return raw_ok and all(r.verification.ok and not r.timed_out for r in self.sdk)


TAG = "bench.sdk"  # progress lines


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.sdk", description=__doc__)
    parser.add_argument("--backends", type=backends, default=BACKENDS)
    parser.add_argument("--runs", type=positive_int, help="default 1000 (100 quick)")
    parser.add_argument("--steps", type=positive_int, default=4)
    parser.add_argument("--slots", type=positive_int, default=100)
    parser.add_argument(
        "--rounds", type=positive_int, help="A-B-B-A pairs per backend; default 1 (quick too)"
    )
    parser.add_argument("--postgres-admin-url", default=pg.default_admin_url())
    parser.add_argument("--quick", action="store_true", help="a small run, for smoke tests")
    args = parser.parse_args(argv)
    return Options(
        backends=args.backends,
        runs=args.runs or (100 if args.quick else 1000),
        steps=args.steps,
        slots=args.slots,
        rounds=args.rounds or 1,
        postgres_admin_url=args.postgres_admin_url,
    )


async def compare_backend(backend: str, options: Options) -> Comparison:
    config = WorkloadConfig(options.runs, options.steps, options.slots)
    raw: list[WorkloadResult] = []
    sdk: list[SdkWorkloadResult] = []
    async with open_target(backend, options.postgres_admin_url) as target:
        async with running_server(target.database_url) as server:
            progress(f"{backend}: server pid {server.pid}, {options.runs} runs per workload", TAG)
            for kind in ("raw", "sdk", "sdk", "raw") * options.rounds:
                if kind == "raw":
                    raw.append(await reference_workload(server.address, server.pid, config))
                    figure = raw[-1].runs_per_second
                else:
                    sdk.append(await sdk_workload(server.address, server.pid, config))
                    figure = sdk[-1].runs_per_second
                progress(f"{backend}: {kind} worker {figure:,.0f} runs/s", TAG)
        version = target.version
    return Comparison(version, tuple(raw), tuple(sdk))


def table(c: Comparison) -> str:
    raw_cpu = statistics.median(r.cpu.bench for r in c.raw)
    sdk_cpu = statistics.median(r.cpu.bench for r in c.sdk)
    rows = [
        ("raw-gRPC worker runs/s (steps/s)", _pair(c.raw_runs_per_second, c.raw[0].config.steps)),
        ("SDK worker runs/s (steps/s)", _pair(c.sdk_runs_per_second, c.sdk[0].config.steps)),
        ("SDK / raw", f"{c.ratio:.2f} (target >= {TARGET_RATIO})"),
        ("benchmark-process cores, raw / SDK", f"{raw_cpu:.2f} / {sdk_cpu:.2f}"),
        (
            "worker CPU per run, raw / SDK",
            f"{_cpu_ms_per_run(c.raw):.2f} / {_cpu_ms_per_run(c.sdk):.2f} ms "
            "(benchmark-process CPU seconds / runs)",
        ),
        ("each raw run, runs/s", ", ".join(f"{r.runs_per_second:,.0f}" for r in c.raw)),
        ("each SDK run, runs/s", ", ".join(f"{r.runs_per_second:,.0f}" for r in c.sdk)),
        ("verified", "every run COMPLETED with its steps" if c.all_runs_completed else "LOST WORK"),
    ]
    verifications = [r.verification for r in c.raw] + [r.verification for r in c.sdk]
    rows += [("problem", v.summary()) for v in verifications if not v.ok]
    width = max(len(label) for label, _ in rows)
    lines = [c.database, *(f"  {label.ljust(width)}  {value}" for label, value in rows)]
    return "\n".join(lines)


def _cpu_ms_per_run(results: Sequence[WorkloadResult | SdkWorkloadResult]) -> float:
    """Median CPU the benchmark process (its worker, mostly) spent per run."""
    return statistics.median(1000 * r.cpu.bench / r.runs_per_second for r in results)


def _pair(runs_per_second: float, steps: int) -> str:
    return f"{runs_per_second:,.0f} ({runs_per_second * steps:,.0f})"


def markdown(results: Sequence[Comparison], command: str) -> str:
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    lines = [
        "| backend | raw-gRPC worker runs/s | SDK worker runs/s | SDK / raw "
        "| worker CPU per run, raw / SDK | all runs completed |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for c in results:
        done = "yes" if c.all_runs_completed else "**NO**"
        lines.append(
            f"| {c.database} | {c.raw_runs_per_second:,.0f} | {c.sdk_runs_per_second:,.0f} "
            f"| {c.ratio:.2f} | {_cpu_ms_per_run(c.raw):.1f} / {_cpu_ms_per_run(c.sdk):.1f} ms "
            f"| {done} |"
        )
    lines += [
        "",
        f"`{command}` on {today}; {os.cpu_count()} CPU cores shared by the server process, "
        f"the benchmark process and the database; Python {platform.python_version()}.",
    ]
    return "\n".join(lines)


async def run(options: Options, out: TextIO = sys.stdout) -> list[Comparison]:
    results = []
    for backend in options.backends:
        result = await compare_backend(backend, options)
        print(table(result), end="\n\n", file=out, flush=True)
        results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    options = parse_options(argv)
    command = Environment.of("bench.sdk", argv).command
    results = asyncio.run(run(options))
    print(markdown(results, command))
    return 0 if all(r.all_runs_completed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
