"""The short chaos scenario runs in `make test` (issue 18): 100 runs on PostgreSQL, two
servers, four worker processes, and one fault of each kind — a worker SIGKILLed, a
server SIGKILLed and restarted, the servers' connections ended by pg_terminate_backend,
a worker SIGSTOPped past its lease. Every invariant must hold. `make chaos` runs the
full suite (1,000 runs per scenario); the judge of re-executions is tested here too."""

from __future__ import annotations

import random

import pytest

from bench import chaos

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


async def test_short_chaos__every_run_ends_and_every_invariant_holds(
    postgres_admin_url: str,
) -> None:
    report = await chaos.run_scenario(chaos.SHORT, postgres_admin_url, wait_for_end=120)

    assert report.faults == len(chaos.FAULTS)
    assert (report.terminal, report.lost) == (100, 0), report
    assert report.violations == []
    assert report.duplicates_unexplained == 0, report
    assert "| one of each fault | 100 | 4 | 100 | 0 |" in chaos.table([report])


def _cluster() -> chaos.Cluster:
    return chaos.Cluster("postgresql://unused", [], [], random.Random(0))


def test_judge__a_step_run_twice_with_no_fault_between_is_unexplained() -> None:
    cluster = _cluster()
    cluster.server_faults.append(100.0)  # long after both executions
    report = chaos.Report("judge", 1)
    effects = [("r1", "s0", 11, 10.0), ("r1", "s0", 12, 12.0), ("r2", "s0", 11, 10.5)]
    chaos._judge_duplicates(effects, cluster, report)
    assert (report.duplicates_explained, report.duplicates_unexplained) == (0, 1)
    assert not report.ok


def test_judge__a_step_run_again_after_its_worker_was_killed_is_explained() -> None:
    cluster = _cluster()
    cluster.struck_pids[11] = [10.5]
    report = chaos.Report("judge", 1)
    chaos._judge_duplicates([("r1", "s0", 11, 10.0), ("r1", "s0", 12, 13.0)], cluster, report)
    assert (report.duplicates_explained, report.duplicates_unexplained) == (1, 0)


def test_judge__a_frozen_worker_writing_after_the_new_owner_is_explained() -> None:
    cluster = _cluster()
    cluster.struck_pids[11] = [9.0]  # frozen mid-step, then resumed after 12 took over
    report = chaos.Report("judge", 1)
    chaos._judge_duplicates([("r1", "s0", 12, 13.0), ("r1", "s0", 11, 14.0)], cluster, report)
    assert report.duplicates_explained == 1


def test_judge__every_freeze_of_a_worker_counts_not_only_its_last() -> None:
    cluster = _cluster()
    cluster.struck_pids[11] = [9.0, 30.0]  # frozen, resumed, ran the step again; frozen later
    report = chaos.Report("judge", 1)
    chaos._judge_duplicates([("r1", "s0", 11, 8.5), ("r1", "s0", 11, 13.0)], cluster, report)
    assert (report.duplicates_explained, report.duplicates_unexplained) == (1, 0)


def test_judge__a_server_fault_between_the_executions_explains_them() -> None:
    cluster = _cluster()
    cluster.server_faults.append(11.0)
    report = chaos.Report("judge", 1)
    chaos._judge_duplicates([("r1", "s0", 11, 10.0), ("r1", "s0", 11, 13.0)], cluster, report)
    assert report.duplicates_explained == 1
