"""Smoke test of `python -m bench.tracing --quick`: a server with OTEL_* unset and one
exporting to the benchmark's sink both run the reference workload to the end, and the
exporting one really exported. It never asserts on timings."""

from __future__ import annotations

import pytest

from bench.tracing import MODES, off_path_nanoseconds, parse_options, report, run

pytestmark = pytest.mark.slow


async def test_quick_tracing_benchmark_runs_both_modes_and_exports() -> None:
    options = parse_options(["--quick", "--runs", "20", "--backends", "sqlite"])

    figures = await run(options)  # exits when no span reached the sink

    assert set(figures["sqlite"]) == set(MODES)
    table = report(figures, off_path_nanoseconds())
    assert "| sqlite |" in table
    assert "tracing code left on a call's path" in table
