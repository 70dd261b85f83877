"""`python -m bench.rest`: StartWorkflow and GetWorkflowRun over REST next to the same
calls over gRPC, in one run, against one real server process (gRPC + REST gateway).

"REST" is the gateway inside the server process, reaching the core over a loopback gRPC
channel, as `make run` serves it; "REST, own process" is a second gateway started with
`stepline-server gateway --grpc-backend`, as a scaled-out deployment runs it. REST goes
through a minimal HTTP/1.1 client (bench/rest_http.py) and, for comparison, httpx.
Transports alternate in rounds, so a drift of the machine or the database over the run
hits all alike. Server CPU per call is read from /proc (server and gateway processes).
Results go to stdout (a table, the REST/gRPC p50 ratio against the target, and a
Markdown table for docs/benchmarks.md); progress goes to stderr. The exit status is 1 when
a call failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

from bench import cpu, pg
from bench.options import positive_int, progress
from bench.report import Environment
from bench.rest_calls import GRPC, REST, RPCS, TRANSPORTS, Clients, Timing, time_calls
from bench.rest_http import CallFailed
from bench.server import RunningServer, running_gateway, running_server

TARGET_RATIO = 1.5


@dataclass(frozen=True, slots=True)
class Options:
    database_url: str | None
    calls: int
    concurrency: tuple[int, ...]
    rounds: int
    warmup: int
    own_process: bool


def _levels(text: str) -> tuple[int, ...]:
    try:
        return tuple(positive_int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("comma-separated positive integers") from None


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.rest", description=__doc__)
    parser.add_argument(
        "--database-url",
        help="postgresql://... (default: a temporary SQLite file)",
    )
    parser.add_argument(
        "--calls",
        type=positive_int,
        default=1000,
        help="timed calls per RPC, transport and concurrency; default %(default)s",
    )
    parser.add_argument(
        "--concurrency",
        type=_levels,
        default=(1, 16),
        help="concurrent callers, comma-separated levels; default 1,16",
    )
    parser.add_argument(
        "--rounds",
        type=positive_int,
        default=4,
        help="the calls are split into this many gRPC/REST alternations; default %(default)s",
    )
    parser.add_argument(
        "--warmup", type=positive_int, default=100, help="untimed calls first; default 100"
    )
    parser.add_argument(
        "--no-own-process",
        dest="own_process",
        action="store_false",
        help="skip the gateway in a process of its own",
    )
    args = parser.parse_args(argv)
    return Options(
        args.database_url,
        args.calls,
        args.concurrency,
        args.rounds,
        args.warmup,
        args.own_process,
    )


@contextlib.asynccontextmanager
async def database(url: str | None) -> AsyncIterator[tuple[str, str]]:
    """(URL, description): the given one, or a temporary SQLite file removed at the end."""
    if url is not None:
        yield url, pg.mask_password(url)
        return
    with tempfile.TemporaryDirectory(prefix="stepline-bench-rest-") as scratch:
        yield f"sqlite:///{Path(scratch) / 'stepline.db'}", "SQLite (temporary file)"


Run = tuple[list[float], float, float | None]


async def _measure(
    clients: Clients, options: Options, concurrency: int, pids: list[int]
) -> list[Timing]:
    whole, extra = divmod(options.calls, options.rounds)
    per_round = [whole + (1 if i < extra else 0) for i in range(options.rounds)]
    timings = []
    for rpc in RPCS:
        for transport in clients.transports:
            await time_calls(clients.call(rpc, transport), options.warmup, concurrency)
        runs: dict[str, list[Run]] = {t: [] for t in clients.transports}
        for calls in per_round:
            for transport in clients.transports:
                before = [cpu.sample(pid).server for pid in pids]
                got, took = await time_calls(clients.call(rpc, transport), calls, concurrency)
                runs[transport].append((got, took, _cpu_seconds(before, pids)))
        timings += [_timing(rpc, t, concurrency, runs[t]) for t in clients.transports]
    return timings


def _cpu_seconds(before: list[float | None], pids: list[int]) -> float | None:
    """CPU seconds the processes used since `before`; None where /proc cannot tell."""
    after = [cpu.sample(pid).server for pid in pids]
    if None in before or None in after:
        return None
    return sum(a - b for a, b in zip(after, before, strict=True) if a is not None and b is not None)


def _timing(rpc: str, transport: str, concurrency: int, runs: list[Run]) -> Timing:
    latencies = tuple(ms for got, _, _ in runs for ms in got)
    seconds = sum(took for _, took, _ in runs)
    server = [s for _, _, s in runs]
    server_cpu = None if None in server else sum(s for s in server if s is not None)
    return Timing(rpc, transport, concurrency, latencies, seconds, server_cpu)


@contextlib.asynccontextmanager
async def _own_gateway(grpc_address: str, wanted: bool) -> AsyncIterator[RunningServer | None]:
    if not wanted:
        yield None
        return
    async with running_gateway(grpc_address) as gateway:
        yield gateway


async def run(options: Options) -> tuple[list[Timing], str]:
    """Start a server with the gateway (and one in its own process), time every RPC,
    transport and concurrency level; (timings, database description)."""
    async with (
        database(options.database_url) as (url, described),
        running_server(url, rest=True) as server,
        _own_gateway(server.address, options.own_process) as gateway,
    ):
        assert server.http_address is not None
        own = None if gateway is None else gateway.http_address
        pids = [server.pid] + ([] if gateway is None else [gateway.pid])
        progress(f"server pid {server.pid}: gRPC {server.address}, REST {server.http_address}")
        if gateway is not None:
            progress(f"gateway in its own process, pid {gateway.pid}: REST {own}")
        clients = Clients(server.address, server.http_address, own, max(options.concurrency))
        try:
            await clients.open()
            timings: list[Timing] = []
            for level in options.concurrency:
                progress(f"{options.calls} calls per RPC and transport, {level} concurrent")
                timings += await _measure(clients, options, level, pids)
        finally:
            await clients.close()
    return timings, described


def _by_transport(timings: Sequence[Timing], rpc: str, concurrency: int) -> dict[str, Timing]:
    return {t.transport: t for t in timings if t.rpc == rpc and t.concurrency == concurrency}


def ratio(timings: Sequence[Timing], rpc: str, concurrency: int, transport: str = REST) -> float:
    """`transport` p50 / gRPC p50 for one RPC at one concurrency."""
    by = _by_transport(timings, rpc, concurrency)
    return by[transport].p50 / by[GRPC].p50


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def _levels_of(timings: Sequence[Timing]) -> list[int]:
    return sorted({t.concurrency for t in timings})


def table(timings: Sequence[Timing]) -> str:
    header = (
        f"{'rpc':<15} {'conc.':>5} {'transport':<17} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'calls/s':>9} {'server CPU ms/call':>19}"
    )
    lines = [header, "-" * len(header)]
    for t in timings:
        lines.append(
            f"{t.rpc:<15} {t.concurrency:>5} {t.transport:<17} {t.p50:>8.2f} {t.p99:>8.2f} "
            f"{t.calls_per_second:>9,.0f} {_ms(t.server_cpu_ms):>19}"
        )
    return "\n".join(lines)


def ratios(timings: Sequence[Timing]) -> str:
    others = [t for t in TRANSPORTS[2:] if any(x.transport == t for x in timings)]
    lines = [f"REST p50 / gRPC p50 (target <= {TARGET_RATIO}; then {', '.join(others)}):"]
    for level in _levels_of(timings):
        for rpc in RPCS:
            value = ratio(timings, rpc, level)
            verdict = "met" if value <= TARGET_RATIO else "NOT MET"
            rest = "; ".join(f"{t} {ratio(timings, rpc, level, t):.2f}" for t in others)
            lines.append(f"  {rpc:<15} {level:>3} concurrent: {value:.2f} ({verdict}); {rest}")
    return "\n".join(lines)


def markdown(timings: Sequence[Timing], env: Environment, database_text: str) -> str:
    rows = [
        "| RPC | callers | transport | p50 | p99 | calls/s | server CPU per call "
        "| p50 ÷ gRPC p50 |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in timings:
        cells = [
            t.rpc,
            str(t.concurrency),
            t.transport,
            f"{t.p50:.2f} ms",
            f"{t.p99:.2f} ms",
            f"{t.calls_per_second:,.0f}",
            f"{_ms(t.server_cpu_ms)} ms",
            ""
            if t.transport == GRPC
            else f"{ratio(timings, t.rpc, t.concurrency, t.transport):.2f}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(
        [*rows, "", f"`{env.command}` on {env.date}; {database_text}; {describe(env)}."]
    )


def describe(env: Environment) -> str:
    # The machine's load average says how far other processes skewed the figures.
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{env.cores} CPU cores shared by the server and gateway processes, the benchmark "
        f"client and the database; load average {load}; Python "
        f"{platform.python_version()}, {platform.system()} {platform.machine()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    options = parse_options(argv)
    env = Environment.of("bench.rest", argv)
    print(f"stepline REST vs gRPC benchmark, {env.date}: {describe(env)}\n", flush=True)
    try:
        timings, database_text = asyncio.run(run(options))
    except (CallFailed, grpc.aio.AioRpcError) as exc:
        print(f"a call failed: {exc}", file=sys.stderr)
        return 1
    print(table(timings), end="\n\n")
    print(ratios(timings), end="\n\n")
    print(markdown(timings, env, database_text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
