"""Smoke test of `python -m bench.sdk --quick`: the raw-gRPC and SDK workers both run the
reference workload end to end against a real server process, and every run completes.
It never asserts on timings."""

from __future__ import annotations

import io

import pytest

from bench.sdk import parse_options, run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
async def test_quick_sdk_benchmark_completes_every_run_on_both_workers(
    backend: str, request: pytest.FixtureRequest
) -> None:
    argv = ["--quick", "--runs", "40", "--backends", backend]
    if backend == "postgres":
        argv += ["--postgres-admin-url", request.getfixturevalue("postgres_admin_url")]
    options = parse_options(argv)
    out = io.StringIO()

    (result,) = await run(options, out=out)

    assert result.all_runs_completed, out.getvalue()
    assert [r.completed_runs for r in result.sdk] == [options.runs, options.runs]
    assert [r.worker.completed_runs for r in result.raw] == [options.runs, options.runs]
    assert "every run COMPLETED with its steps" in out.getvalue()
