"""Retention for real, under load: two servers on ONE PostgreSQL database delete a
namespace's expired runs (written in bulk by SQL) while a worker claims and completes new
runs of the same namespace and queue through them.

Shown: every expired run is deleted and counted once (the two servers' counters add up to
the number written); the runs the worker was given all complete, and none of them, nor
any live run, is deleted; and the servers never delete side by side: a statement-level
trigger logs the start and end of every DELETE on the runs table, and no two overlap.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import psycopg
import pytest
import pytest_asyncio

from bench.retention_seed import count_runs, seed_finished
from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import workflow_run_pb2 as wr
from storage import create_store
from storage.access import NamespaceCreateParams
from tests.services.conftest import Api, start_api, stop_api
from tests.services.helpers import get_run, poll, start, until
from tests.support import postgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

NS = "kept-a-day"  # the database is this test's own
QUEUE = "orders"
EXPIRED = 3_000
LOAD = 150
RETENTION = timedelta(days=1)

# Every DELETE statement on the runs table, its start and its end, by backend.
_DELETE_LOG = (
    "CREATE TABLE test_delete_log (seq bigserial, pid int, phase text)",
    """CREATE FUNCTION test_log_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO test_delete_log (pid, phase) VALUES (pg_backend_pid(), TG_WHEN);
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER test_delete_began BEFORE DELETE ON stepline_workflow_runs
    FOR EACH STATEMENT EXECUTE FUNCTION test_log_delete()""",
    """CREATE TRIGGER test_delete_ended AFTER DELETE ON stepline_workflow_runs
    FOR EACH STATEMENT EXECUTE FUNCTION test_log_delete()""",
)


@pytest.fixture
def database(postgres_admin_url: str) -> Iterator[str]:
    with postgres.fresh_database(postgres_admin_url) as url:
        yield url


@pytest_asyncio.fixture
async def seeded(database: str) -> str:
    """The database migrated, NS kept a day, EXPIRED runs that ended two days ago."""
    store = create_store(database)
    await store.start()
    try:
        await store.migrate()
        await store.namespace_create(NamespaceCreateParams(NS, retention=RETENTION))
    finally:
        await store.close()
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
        for statement in _DELETE_LOG:
            await conn.execute(statement)
    await seed_finished(database, NS, QUEUE, EXPIRED, age=2 * RETENTION)
    return database


@pytest_asyncio.fixture
async def two_servers(seeded: str) -> AsyncIterator[tuple[Api, Api]]:
    settings = {
        "db_pool_size": 3,  # the database's connections are shared with every other test
        "retention_interval": timedelta(milliseconds=100),
        "retention_batch": 100,
        "retention_pause": timedelta(0),
    }
    a = await start_api(seeded, **settings)
    try:
        b = await start_api(seeded, **settings)
        try:
            yield a, b
        finally:
            await stop_api(b)
    finally:
        await stop_api(a)


async def _work(starter: Api, worker: Api) -> list[str]:
    """Start LOAD runs through one server; claim and complete each through the other."""
    started = [(await start(starter, NS, task_queue=QUEUE)).run.run_id for _ in range(LOAD)]
    done: list[str] = []
    while len(done) < LOAD:
        for task in await poll(worker, NS, wait=5.0, task_queue=QUEUE, max_runs=10):
            request = wk.CompleteWorkflowRequest(lease=task.lease)
            await worker.worker.CompleteWorkflow(request)
            done.append(task.run.run_id)
    assert sorted(done) == sorted(started)
    return done


def _deleted(api: Api) -> float:
    value = api.server.metrics.registry.get_sample_value(
        "stepline_runs_deleted_total", {"namespace": NS}
    )
    return value or 0.0


async def _delete_log(url: str) -> list[tuple[int, str]]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute("SELECT pid, phase FROM test_delete_log ORDER BY seq")
        return [(int(pid), str(phase)) for pid, phase in await cursor.fetchall()]


async def test_two_servers_delete_expired_runs_once_each_one_at_a_time_under_load(
    seeded: str, two_servers: tuple[Api, Api]
) -> None:
    a, b = two_servers
    completed = await _work(starter=b, worker=a)

    await until(lambda: count_runs(seeded, NS), lambda left: left == LOAD, within=60)

    assert _deleted(a) + _deleted(b) == EXPIRED
    runs = await asyncio.gather(*(get_run(a, NS, run_id) for run_id in completed))
    assert {r.status for r in runs} == {wr.WORKFLOW_RUN_STATUS_COMPLETED}
    log = await _delete_log(seeded)
    assert log, "no DELETE was logged"
    began, ended = log[0::2], log[1::2]
    # In the order the rows were logged (seq is taken at insert, not at commit): began,
    # ended, began, ended... each pair one backend's. Deletes side by side would log
    # began, began.
    assert [phase for _, phase in began] == ["BEFORE"] * len(began)
    assert [phase for _, phase in ended] == ["AFTER"] * len(ended)
    assert [pid for pid, _ in began] == [pid for pid, _ in ended]
