"""Smoke test of `python -m bench.batches --quick`: both batches act on every seeded run
through a real server process while the probe keeps claiming. It never asserts on timings."""

from __future__ import annotations

import io

import pytest

from bench.batches import parse_options, run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
async def test_quick_batches_act_on_every_run(backend: str, request: pytest.FixtureRequest) -> None:
    argv = ["--quick", "--backends", backend]
    if backend == "postgres":
        argv += ["--postgres-admin-url", request.getfixturevalue("postgres_admin_url")]
    options = parse_options(argv)
    out = io.StringIO()

    (result,) = await run(options, out=out)

    assert result.complete, out.getvalue()
    assert result.cancel.result.skipped_count == result.replay.result.skipped_count == 0
    assert result.cancel.claims.samples_ms and result.replay.claims.samples_ms
    assert f"batch replay: {options.runs} runs" in out.getvalue()
