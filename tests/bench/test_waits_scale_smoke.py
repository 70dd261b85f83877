"""Smoke test of `python -m bench.waits_scale` with small numbers: the bulk-written waits
are ones SendEvent finds (each event resumes exactly one run), and both figures and their
ratio are printed. It never asserts on timings."""

from __future__ import annotations

import io

import pytest

from bench.waits_scale import run

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


async def test_waits_scale_benchmark_resumes_one_run_per_event(postgres_admin_url: str) -> None:
    argv = ["--small", "20", "--large", "200", "--events", "5", "--rounds", "2"]
    out = io.StringIO()
    rounds = await run([*argv, "--postgres-admin-url", postgres_admin_url], out=out)
    for costs in rounds:
        assert [(c.open_waits, len(c.samples_ms)) for c in costs] == [(20, 5), (200, 5)]
    assert "ratio p50 200 / 20 open waits:" in out.getvalue()
