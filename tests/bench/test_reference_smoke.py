"""Smoke test of `python -m bench.reference --quick`: it runs end to end against a real
server process and reports every run completed. It never asserts on timings."""

from __future__ import annotations

import io

import pytest

from bench.reference import parse_options, run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
async def test_quick_benchmark_completes_every_run(
    backend: str, request: pytest.FixtureRequest
) -> None:
    argv = ["--quick", "--backends", backend]
    if backend == "postgres":
        # The benchmark makes (and drops) its own database through the admin URL.
        argv += ["--postgres-admin-url", request.getfixturevalue("postgres_admin_url")]
    options = parse_options(argv)
    out = io.StringIO()

    (result,) = await run(options, out=out)

    assert result.errors == []
    assert result.workload.worker.completed_runs == options.runs
    assert result.all_runs_completed, out.getvalue()
    assert f"{options.runs}/{options.runs} runs COMPLETED" in out.getvalue()
