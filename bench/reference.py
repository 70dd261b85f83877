"""`python -m bench.reference`: the reference workload, pickup latency and the raw commit
rate on each backend, in one run, through the real gRPC path to a real server process.

Results go to stdout (a table per backend, then a Markdown table for docs/benchmarks.md);
progress goes to stderr. The exit status is 1 when any run was lost or left unfinished.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from bench import pg
from bench.options import backends, positive_int, progress
from bench.pickup import pickup_latency
from bench.report import BackendResult, Environment, backend_table, markdown
from bench.server import running_server
from bench.targets import BACKENDS, open_target
from bench.workload import WorkloadConfig, reference_workload


@dataclass(frozen=True, slots=True)
class Sizes:
    runs: int
    pickup_samples: int
    commit_seconds: float


FULL = Sizes(runs=1000, pickup_samples=200, commit_seconds=3.0)
QUICK = Sizes(runs=100, pickup_samples=20, commit_seconds=1.0)


@dataclass(frozen=True, slots=True)
class Options:
    backends: tuple[str, ...]
    runs: int
    steps: int
    slots: int
    pickup_samples: int
    commit_seconds: float
    postgres_admin_url: str


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.reference", description=__doc__)
    parser.add_argument(
        "--backends",
        type=backends,
        default=BACKENDS,
        help="comma-separated; default sqlite,postgres",
    )
    parser.add_argument(
        "--runs", type=positive_int, help=f"default {FULL.runs} ({QUICK.runs} quick)"
    )
    parser.add_argument(
        "--steps", type=positive_int, default=4, help="no-op steps per run; default 4"
    )
    parser.add_argument("--slots", type=positive_int, default=100, help="worker slots; default 100")
    parser.add_argument(
        "--pickup-samples",
        type=positive_int,
        help=f"default {FULL.pickup_samples} ({QUICK.pickup_samples} quick)",
    )
    parser.add_argument(
        "--commit-seconds",
        type=_positive_float,
        help=f"per raw commit-rate figure; default {FULL.commit_seconds:g} "
        f"({QUICK.commit_seconds:g} quick)",
    )
    parser.add_argument(
        "--postgres-admin-url",
        default=pg.default_admin_url(),
        help=f"makes and drops the throwaway database (env {pg.ADMIN_URL_ENV}); "
        "default %(default)s",
    )
    parser.add_argument("--quick", action="store_true", help="a small run, for smoke tests")
    return parser


def parse_options(argv: Sequence[str]) -> Options:
    args = _parser().parse_args(argv)
    sizes = QUICK if args.quick else FULL
    return Options(
        backends=args.backends,
        runs=args.runs or sizes.runs,
        steps=args.steps,
        slots=args.slots,
        pickup_samples=args.pickup_samples or sizes.pickup_samples,
        commit_seconds=args.commit_seconds or sizes.commit_seconds,
        postgres_admin_url=args.postgres_admin_url,
    )


async def bench_backend(backend: str, options: Options) -> BackendResult:
    async with open_target(backend, options.postgres_admin_url) as target:
        progress(f"{backend}: raw commit rate, {options.commit_seconds:g} s per figure")
        commit_rate = await target.commit_rate(options.commit_seconds)
        async with running_server(target.database_url) as server:
            progress(f"{backend}: server pid {server.pid} at {server.address}")
            progress(f"{backend}: reference workload, {options.runs} runs")
            config = WorkloadConfig(options.runs, options.steps, options.slots)
            workload = await reference_workload(server.address, server.pid, config)
            progress(f"{backend}: pickup latency, {options.pickup_samples} samples")
            pickup = await pickup_latency(server.address, options.pickup_samples)
    return BackendResult(target.version, target.durability, workload, pickup, commit_rate)


async def run(options: Options, out: TextIO = sys.stdout) -> list[BackendResult]:
    """Benchmark each backend in turn, printing its table as soon as it is done."""
    results = []
    for backend in options.backends:
        result = await bench_backend(backend, options)
        print(backend_table(result), end="\n\n", file=out, flush=True)
        results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    options = parse_options(argv)
    env = Environment.of("bench.reference", argv)
    print(f"stepline reference benchmark, {env.date}: {env.describe()}\n", flush=True)
    results = asyncio.run(run(options))
    print(markdown(results, env))
    return 0 if all(r.all_runs_completed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
