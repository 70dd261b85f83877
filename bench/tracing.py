"""`python -m bench.tracing`: what tracing costs the server, unset and exporting.

The reference workload (raw gRPC worker, no-op steps) runs against a server with no
OTEL_* variables ("unset") and against one exporting every span over OTLP/HTTP to a
sink in this process ("exporting"), alternating, several rounds. Reported: the median
runs/s and the server's CPU per step of each, and their ratios within this run.

With OTEL_* unset the server installs no interceptor and no instrumentation, so the
only tracing code left on a call's path is the StartWorkflow trace-context read (and,
per REST request, a span lookup): their cost per call is measured here too, next to
the server's CPU per run, to show it is below anything measurable.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import timeit
from collections.abc import Sequence
from dataclasses import dataclass

from bench import pg
from bench.options import backends, positive_int, progress
from bench.otlp_sink import OtlpSink
from bench.report import Environment
from bench.server import running_server
from bench.targets import open_target
from bench.workload import WorkloadConfig, WorkloadResult, reference_workload
from gateway.tracing import name_request_span
from services.tracecontext import trace_context
from stepline import tracing

MODES = ("unset", "exporting")
# The metadata of a call from an untraced client, as grpc hands it to the handler.
_UNTRACED_CALL = (("user-agent", "grpc-python/1.85.1"),)


@dataclass(frozen=True, slots=True)
class Options:
    backends: tuple[str, ...]
    runs: int
    rounds: int
    steps: int
    slots: int
    postgres_admin_url: str


@dataclass(frozen=True, slots=True)
class ModeFigures:
    runs_per_second: float
    server_cpu_ms_per_step: float


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.tracing", description=__doc__)
    parser.add_argument("--backends", type=backends, default=("sqlite", "postgres"))
    parser.add_argument("--runs", type=positive_int, help="per round; default 500 (50 quick)")
    parser.add_argument("--rounds", type=positive_int, default=3, help="default 3")
    parser.add_argument("--steps", type=positive_int, default=4, help="default 4")
    parser.add_argument("--slots", type=positive_int, default=100, help="default 100")
    parser.add_argument("--postgres-admin-url", default=pg.default_admin_url())
    parser.add_argument("--quick", action="store_true", help="1 round of 50 runs: a smoke test")
    return parser


def parse_options(argv: Sequence[str]) -> Options:
    args = _parser().parse_args(argv)
    return Options(
        backends=args.backends,
        runs=args.runs or (50 if args.quick else 500),
        rounds=1 if args.quick else args.rounds,
        steps=args.steps,
        slots=args.slots,
        postgres_admin_url=args.postgres_admin_url,
    )


def _environ(mode: str, sink: OtlpSink) -> dict[str, str]:
    unset = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    if mode == "unset":
        return unset
    return {**unset, "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint, "OTEL_SERVICE_NAME": "bench"}


async def _round(database_url: str, environ: dict[str, str], options: Options) -> WorkloadResult:
    async with running_server(database_url, environ=environ) as server:
        config = WorkloadConfig(options.runs, options.steps, options.slots)
        return await reference_workload(server.address, server.pid, config)


def _figures(results: list[WorkloadResult]) -> ModeFigures:
    def cpu_ms_per_step(r: WorkloadResult) -> float:
        busy = (r.cpu.server or 0.0) * r.execute_seconds
        return 1000 * busy / max(r.worker.step_calls, 1)

    return ModeFigures(
        runs_per_second=statistics.median(r.runs_per_second for r in results),
        server_cpu_ms_per_step=statistics.median(cpu_ms_per_step(r) for r in results),
    )


async def bench_backend(backend: str, options: Options, sink: OtlpSink) -> dict[str, ModeFigures]:
    results: dict[str, list[WorkloadResult]] = {mode: [] for mode in MODES}
    async with open_target(backend, options.postgres_admin_url) as target:
        for number in range(1, options.rounds + 1):
            for mode in MODES:  # alternating, so that drift hits both alike
                progress(f"{backend}: round {number}/{options.rounds}, tracing {mode}")
                result = await _round(target.database_url, _environ(mode, sink), options)
                if not result.verification.ok:
                    raise SystemExit(f"{backend}: {result.verification.summary()}")
                results[mode].append(result)
    return {mode: _figures(found) for mode, found in results.items()}


def off_path_nanoseconds() -> float:
    """ns per call of the tracing code a call still runs with OTEL_* unset."""
    assert not tracing.active(), "measure with OTEL_* unset"

    def per_call() -> None:
        trace_context(_UNTRACED_CALL)  # StartWorkflow: a trace context to store?
        name_request_span("POST", "/v1/namespaces/{namespace_id}/runs")  # REST only

    count = 100_000
    return min(timeit.repeat(per_call, number=count, repeat=5)) / count * 1e9


def report(figures: dict[str, dict[str, ModeFigures]], off_path_ns: float) -> str:
    lines = [
        "| backend | runs/s unset | runs/s exporting | ratio | server CPU/step unset "
        "| exporting | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, modes in figures.items():
        unset, on = modes["unset"], modes["exporting"]
        lines.append(
            f"| {backend} | {unset.runs_per_second:.0f} | {on.runs_per_second:.0f} "
            f"| {on.runs_per_second / unset.runs_per_second:.2f} "
            f"| {unset.server_cpu_ms_per_step:.3f} ms | {on.server_cpu_ms_per_step:.3f} ms "
            f"| {on.server_cpu_ms_per_step / unset.server_cpu_ms_per_step:.2f} |"
        )
    cheapest = min(m["unset"].server_cpu_ms_per_step for m in figures.values())
    share = off_path_ns / (cheapest * 1e6) * 100
    lines.append(
        f"\nWith OTEL_* unset, the tracing code left on a call's path costs "
        f"{off_path_ns:.0f} ns per call: {share:.3f}% of the server's CPU per step."
    )
    return "\n".join(lines)


async def run(options: Options) -> dict[str, dict[str, ModeFigures]]:
    with OtlpSink() as sink:
        figures = {b: await bench_backend(b, options, sink) for b in options.backends}
        progress(f"the sink received {sink.spans} spans in {sink.requests} exports")
        if sink.spans == 0:
            raise SystemExit("no span reached the sink: the exporting server did not trace")
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    options = parse_options(argv)
    env = Environment.of("bench.tracing", argv)
    print(f"stepline tracing benchmark, {env.date}: {env.describe()}\n", flush=True)
    figures = asyncio.run(run(options))
    print(report(figures, off_path_nanoseconds()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
