"""Smoke test of `python -m bench.rest` with tiny counts: a real server process with its
REST gateway, and a gateway in a process of its own, answer every timed call over gRPC
and both REST clients, and the report shows each figure. It never asserts on timings."""

from __future__ import annotations

import pytest

from bench.rest import main, parse_options, run
from bench.rest_calls import RPCS, TRANSPORTS

pytestmark = pytest.mark.slow

TINY = ["--calls", "11", "--warmup", "2", "--rounds", "2", "--concurrency", "1,3"]


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
async def test_quick_rest_benchmark_times_every_call(
    backend: str, request: pytest.FixtureRequest
) -> None:
    argv = list(TINY)
    if backend == "postgres":
        argv += ["--database-url", request.getfixturevalue("postgres_url")]
    options = parse_options(argv)

    timings, database = await run(options)

    assert [(t.rpc, t.concurrency, t.transport) for t in timings] == [
        (rpc, level, transport) for level in (1, 3) for rpc in RPCS for transport in TRANSPORTS
    ]
    assert all(len(t.latencies_ms) == 11 for t in timings)
    assert all(t.server_cpu_ms is not None for t in timings)  # read from /proc
    assert ("SQLite" in database) == (backend == "sqlite")


def test_report_prints_the_table_the_ratios_and_the_markdown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--calls", "4", "--warmup", "1", "--rounds", "1", "--concurrency", "2"]

    assert main([*argv, "--no-own-process"]) == 0

    out = capsys.readouterr().out
    for rpc in RPCS:
        # Per transport but the own-process one: a table row and a Markdown row; one ratio.
        assert out.count(rpc) == 3 + 1 + 3, out
    assert "REST, own process" not in out
    assert "REST p50 / gRPC p50 (target <= 1.5" in out
    assert "| GetWorkflowRun | 2 |" in out
    assert "server CPU ms/call" in out
    assert "`python -m bench.rest --calls 4" in out
