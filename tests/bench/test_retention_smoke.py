"""Smoke test of `python -m bench.retention` with small numbers: the bulk-written finished
runs are ones retention deletes (all of them, in the phases that set a retention; none in
the others), every claim took one run, and the ratios are printed. It never asserts on
timings."""

from __future__ import annotations

import io

import pytest

from bench.retention import run

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


async def test_retention_benchmark_deletes_what_it_wrote_while_claiming(
    postgres_admin_url: str,
) -> None:
    argv = ["--small", "300", "--large", "1500", "--claims", "20"]
    out = io.StringIO()
    phases = await run([*argv, "--postgres-admin-url", postgres_admin_url], out=out)
    assert [(p.finished_runs, p.deleted) for p in phases] == [
        (300, 0),
        (300, 300),
        (1500, 0),
        (1500, 1500),
    ]
    assert all(len(p.samples_ms) >= 20 for p in phases)
    assert "ratio p50 1,500 deleting / 300 retention idle:" in out.getvalue()
