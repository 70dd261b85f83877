"""Smoke test of `python -m bench.peers` with tiny counts, stepline alone: the SDK driver
runs the harness's workload against a real server process on PostgreSQL, every run is
verified in the database, and the table shows the figures. It never asserts on timings.
Also: without node, OpenWorkflow is skipped with a message that says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import peers
from bench.cpu_trace import CpuTrace

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


async def test_stepline_alone_completes_and_verifies_every_run(postgres_admin_url: str) -> None:
    argv = ["--systems", "stepline", "--rounds", "1", "--runs", "30", "--trials", "2"]
    options = peers.parse_options([*argv, "--postgres-admin-url", postgres_admin_url])

    results, version = await peers.run(options)

    stepline = results[peers.STEPLINE]
    assert list(results) == [peers.STEPLINE]
    assert stepline.ok, stepline.overlaps[0].verified
    assert stepline.overlaps[0].verified.startswith("30/30 runs completed, 30 with exactly")
    assert len(stepline.pickup_ms) == 2
    assert set(stepline.overlaps[0].cpu_ms_per_run) == {"server", "load", "postgres"}
    table = peers.markdown(results, version, options, "python -m bench.peers")
    assert "| stepline (SDK) |" in table and "idle pickup p50" in table


def test_openworkflow_is_skipped_without_node(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    assert peers.openworkflow_available() == "node is not installed"


def test_cpu_between_interpolates_between_samples() -> None:
    seconds = iter([1.0, 2.0, 4.0])
    trace = CpuTrace({"g": lambda: []})
    group = trace._groups["g"]
    group.times, group.totals = [10.0, 11.0, 12.0], [next(seconds) for _ in range(3)]

    assert trace.cpu_between("g", 10.5, 11.5) == pytest.approx(1.5)
    assert trace.cpu_between("g", 9.0, 13.0) == pytest.approx(3.0)
