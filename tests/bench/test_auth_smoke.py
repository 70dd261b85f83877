"""Smoke test of `python -m bench.auth --quick`: a server with auth off and one requiring
keys both take every call (the keyed calls really carry the key: a refusal would fail
the run). It never asserts on timings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.auth import CALLS, MODES, bench_backend, check_cost_microseconds, parse_options, report

pytestmark = pytest.mark.slow


async def test_quick_auth_benchmark_runs_both_modes(tmp_path: Path) -> None:
    options = parse_options(["--quick", "--calls", "50", "--backends", "sqlite"])

    figures = await bench_backend("sqlite", options)

    assert set(figures) == set(MODES)
    assert all(set(calls) == set(CALLS) for calls in figures.values())
    table = report({"sqlite": figures}, await check_cost_microseconds(f"sqlite:///{tmp_path}/c.db"))
    assert "| sqlite | CompleteStep |" in table
