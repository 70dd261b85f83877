"""The stepline-server process: start-up, health, reflection, migrate, clean SIGTERM,
and storage errors, through the real console script."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import grpc
import psycopg
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from psycopg import sql

from stepline.v1 import worker_service_pb2 as wk
from stepline.v1 import worker_service_pb2_grpc, workflow_service_pb2_grpc
from stepline.v1 import workflow_service_pb2 as wf
from storage.migrations import load_migrations
from tests.services.conftest import start_api, stop_api
from tests.services.helpers import expect_error, get_run, seconds
from tests.support import postgres

_LISTENING = re.compile(r"gRPC listening on (\S+); database (\S+)")
SCRIPT = Path(sys.executable).with_name("stepline-server")


async def _run_cli(*args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(SCRIPT),
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # Port 0: the REST gateway must not take 8080 from other tests or the user.
        env={**os.environ, "STEPLINE_LOG_LEVEL": "WARNING", "STEPLINE_HTTP_ADDRESS": "127.0.0.1:0"},
    )


class RunningServer:
    def __init__(self, process: asyncio.subprocess.Process, address: str, database: str) -> None:
        self.process = process
        self.address = address
        self.database = database

    async def read_rest(self) -> str:
        assert self.process.stdout is not None
        return (await asyncio.wait_for(self.process.stdout.read(), timeout=30)).decode()


@pytest_asyncio.fixture
async def cli_server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """`stepline-server serve` with no database flag: the embedded SQLite default."""
    process = await _run_cli("serve", "--grpc-address", "127.0.0.1:0", cwd=tmp_path)
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
    match = _LISTENING.search(line)
    assert match, line
    try:
        yield RunningServer(process, match[1], match[2])
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_serve__defaults_to_sqlite_in_dot_stepline(
    cli_server: RunningServer, tmp_path: Path
) -> None:
    assert cli_server.database == "sqlite:///.stepline/stepline.db"
    assert (tmp_path / ".stepline" / "stepline.db").exists()


async def test_serve__reports_health_and_reflects_its_services(cli_server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(cli_server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "stepline.v1.WorkflowService", "stepline.v1.WorkerService"):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        replies = [r async for r in reflection.ServerReflectionInfo(iter([request]))]
        names = {s.name for s in replies[0].list_services_response.service}
        assert {"stepline.v1.WorkflowService", "stepline.v1.WorkerService"} <= names


async def test_serve__sigterm_ends_waiting_polls_and_exits_cleanly(
    cli_server: RunningServer,
) -> None:
    async with grpc.aio.insecure_channel(cli_server.address) as channel:
        worker = worker_service_pb2_grpc.WorkerServiceStub(channel)  # type: ignore[no-untyped-call]
        waiting = asyncio.ensure_future(
            worker.PollActivity(wk.PollActivityRequest(wait=seconds(60)))
        )
        await asyncio.sleep(0.5)
        cli_server.process.send_signal(signal.SIGTERM)
        response = await asyncio.wait_for(waiting, timeout=20)
        assert list(response.tasks) == []
    assert await asyncio.wait_for(cli_server.process.wait(), timeout=30) == 0
    output = await cli_server.read_rest()
    assert "shutting down" in output and "stopped" in output


async def test_migrate__applies_once_then_reports_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    outputs = []
    for _ in range(2):
        process = await _run_cli("migrate", "--database-url", url, cwd=tmp_path)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, stderr.decode()
        outputs.append(stdout.decode())
    assert "0001_initial" in outputs[0]
    assert "up to date" in outputs[1]


async def test_serve__bad_flag_value_exits_with_a_message(tmp_path: Path) -> None:
    process = await _run_cli("serve", "--lease-duration", "soon", cwd=tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    assert "lease-duration" in stderr.decode()


@pytest.mark.postgres
async def test_storage_unavailable__is_unavailable_with_a_reason(postgres_admin_url: str) -> None:
    url = postgres.create_database(postgres_admin_url)
    api = await start_api(url, db_pool_timeout=timedelta(milliseconds=500))
    name = postgres.database_name(url)
    try:
        # The database stops accepting connections and drops the ones it has.
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name))
            )
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
        info = await expect_error(
            get_run(api, "default", "01234567-89ab-7def-8123-456789abcdef"),
            grpc.StatusCode.UNAVAILABLE,
            "STORAGE_UNAVAILABLE",
        )
        assert info.domain == "stepline"
    finally:
        await stop_api(api)
        postgres.drop_database(postgres_admin_url, url)


async def test_serve__taken_address_exits_with_a_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await _run_cli("serve", "--grpc-address", f"127.0.0.1:{port}", cwd=tmp_path)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in stderr.decode()
    assert "Traceback" not in stderr.decode()


async def test_serve__reads_its_settings_from_stepline_variables(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        "serve",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        env={
            **os.environ,
            "STEPLINE_DATABASE_URL": "sqlite:///from-env.db",
            "STEPLINE_GRPC_ADDRESS": "127.0.0.1:0",
            "STEPLINE_LEASE_DURATION": "750ms",
            "STEPLINE_HTTP_ADDRESS": "127.0.0.1:0",
        },
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        match = _LISTENING.search(line)
        assert match, line
        assert match[2] == "sqlite:///from-env.db"
        assert (tmp_path / "from-env.db").exists()
        migrated = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in load_migrations("storage.sqlite"))
        assert migrated.strip() == f"stepline-server: migrations applied: {names}"
        async with grpc.aio.insecure_channel(match[1]) as channel:
            worker = worker_service_pb2_grpc.WorkerServiceStub(channel)  # type: ignore[no-untyped-call]
            await api_start(channel)
            polled = await worker.PollActivity(wk.PollActivityRequest(wait=seconds(5)))
            task = polled.tasks[0]
            lease = task.lease_expires_at.ToDatetime() - task.run.started_at.ToDatetime()
            assert lease == timedelta(milliseconds=750)
    finally:
        process.terminate()
        await process.wait()


async def api_start(channel: grpc.aio.Channel) -> None:
    workflow = workflow_service_pb2_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
    await workflow.StartWorkflow(wf.StartWorkflowRequest(workflow_name="wf"))
