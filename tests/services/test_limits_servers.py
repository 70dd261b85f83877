"""Concurrency limits for real: three `stepline-server serve` processes on ONE PostgreSQL
database, six SDK worker processes (two per server, each willing to run 10 runs at once),
and one workflow limited to 3 running runs and 1 per concurrency key.

A sampler reads the database every few milliseconds: the limit is never exceeded, in
total or for any key, and the slots table agrees with the RUNNING runs in every sample
(each sample is one snapshot). A key with a big backlog, started first, does not starve
the other keys: they all finish while most of the backlog still waits."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from stepline import Client
from tests.cli.processes import ROOT, environment, server, stop
from tests.services.limits_app import MAX_CONCURRENCY, MAX_PER_KEY
from tests.support import postgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# Few connections each: the database's connections are shared with every other test.
SMALL_POOL = {"STEPLINE_DB_POOL_SIZE": "3"}
BACKLOG = 30
OTHER_KEYS = 8
RUNS_PER_OTHER_KEY = 3

_SAMPLE = b"""
SELECT
    (SELECT count(*) FROM stepline_workflow_runs
        WHERE workflow_name = 'limited' AND status = 'RUNNING') AS running,
    (SELECT count(*) FROM stepline_concurrency_slots WHERE workflow_name = 'limited') AS slots,
    (SELECT coalesce(max(n), 0) FROM (
        SELECT count(*) AS n FROM stepline_workflow_runs
        WHERE workflow_name = 'limited' AND status = 'RUNNING'
        GROUP BY concurrency_key) AS per_key) AS busiest_key
"""


@dataclass
class Samples:
    taken: int = 0
    most_running: int = 0
    most_per_key: int = 0
    disagreements: list[tuple[int, int]] = field(default_factory=list)


@pytest.fixture
def database(postgres_admin_url: str) -> Iterator[str]:
    url = postgres.create_database(postgres_admin_url)
    try:
        yield url
    finally:
        postgres.drop_database(postgres_admin_url, url)


@contextmanager
def worker_process(address: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.services.limits_app", address],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        stop(process)
        assert process.stdout is not None
        process.stdout.close()


async def _query_one(url: str, statement: bytes) -> tuple[int, ...]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        row = await (await conn.execute(statement)).fetchone()
    assert row is not None
    return tuple(row)


async def _until(url: str, statement: bytes, within: float) -> None:
    """Poll the database until the statement answers true."""
    async with asyncio.timeout(within):
        while True:
            if (await _query_one(url, statement))[0]:
                return
            await asyncio.sleep(0.05)


async def _sample(url: str, samples: Samples, stop_sampling: asyncio.Event) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while not stop_sampling.is_set():
            row = await (await conn.execute(_SAMPLE)).fetchone()
            assert row is not None
            running, slots, busiest_key = row
            samples.taken += 1
            samples.most_running = max(samples.most_running, running)
            samples.most_per_key = max(samples.most_per_key, busiest_key)
            if running != slots:
                samples.disagreements.append((running, slots))
            await asyncio.sleep(0.002)


async def _start_runs(address: str) -> None:
    async with Client(address) as client:
        for _ in range(BACKLOG):
            await client.start("limited", concurrency_key="big")
        for round_ in range(RUNS_PER_OTHER_KEY):
            for key in range(OTHER_KEYS):
                await client.start("limited", {"round": round_}, concurrency_key=f"k{key}")


async def _big_done_when_others_were(url: str) -> tuple[int, int]:
    """How many of the big key's runs had finished when the other keys' last run did."""
    done, total = await _query_one(
        url,
        b"""
        SELECT count(*) FILTER (WHERE finished_at <= (
                SELECT max(finished_at) FROM stepline_workflow_runs
                WHERE concurrency_key <> 'big')),
            count(*)
        FROM stepline_workflow_runs WHERE concurrency_key = 'big'
        """,
    )
    return done, total


async def test_three_servers_six_workers_never_exceed_the_limit(
    database: str, tmp_path: Path
) -> None:
    with ExitStack() as stack:
        addresses = [
            stack.enter_context(server(database, tmp_path, **SMALL_POOL)) for _ in range(3)
        ]
        for n in range(6):
            stack.enter_context(worker_process(addresses[n % 3]))
        # Every worker registered: the limits are in force before the first run starts.
        await _until(database, b"SELECT count(*) = 6 FROM stepline_workers", within=30)
        samples, stop_sampling = Samples(), asyncio.Event()
        sampler = asyncio.create_task(_sample(database, samples, stop_sampling))
        try:
            await _start_runs(addresses[0])
            everything_done = b"SELECT bool_and(status = 'COMPLETED') FROM stepline_workflow_runs"
            await _until(database, everything_done, within=120)
        finally:
            stop_sampling.set()
            await sampler
    assert samples.taken > 100
    # The workers wanted more; the limit, reached, held across the three servers.
    assert samples.most_running == MAX_CONCURRENCY
    assert samples.most_per_key == MAX_PER_KEY
    assert samples.disagreements == []
    big_done, big_total = await _big_done_when_others_were(database)
    # One slot serves the backlog, the other two the other keys: they all finish while
    # well over a third of the backlog still waits (it gets one run in three, not all).
    assert big_total == BACKLOG
    assert big_done <= BACKLOG * 2 // 3
