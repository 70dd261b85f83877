"""Smoke test of `python -m bench.waits`: a few samples of each kind on each backend, every
waiting run resumed. It never asserts on timings."""

from __future__ import annotations

import io

import pytest

from bench.waits import KINDS, run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
async def test_waits_benchmark_resumes_every_run(
    backend: str, request: pytest.FixtureRequest
) -> None:
    argv = ["--samples", "3", "--backends", backend]
    if backend == "postgres":
        argv += ["--postgres-admin-url", request.getfixturevalue("postgres_admin_url")]
    out = io.StringIO()
    results = await run(argv, out=out)
    assert [(r.kind, len(r.samples_ms)) for r in results] == [(kind, 3) for kind in KINDS]
    assert "resumed after: p50" in out.getvalue()
