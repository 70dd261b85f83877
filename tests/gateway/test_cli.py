"""`stepline-server serve` answers REST next to gRPC; `stepline-server gateway` runs the
gateway alone in front of a separately started core. Real processes, real signals."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
import pytest_asyncio

from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc
from tests.conftest import sqlite_url_for
from tests.services.conftest import start_api, stop_api

SCRIPT = Path(sys.executable).with_name("stepline-server")
_GRPC = re.compile(r"gRPC listening on (\S+);")
_REST = re.compile(r"REST listening on (http://\S+?)(;|$)")

pytestmark = pytest.mark.slow


async def _spawn(*args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(SCRIPT),
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "STEPLINE_LOG_LEVEL": "WARNING"},
    )


async def _line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()


async def _terminate(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    assert process.stdout is not None
    rest = await asyncio.wait_for(process.stdout.read(), timeout=30)
    return await asyncio.wait_for(process.wait(), timeout=30), rest.decode()


@pytest_asyncio.fixture
async def killed_at_exit() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    processes: list[asyncio.subprocess.Process] = []
    yield processes
    for process in processes:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_serve__answers_rest_and_grpc_and_stops_both_on_sigterm(
    tmp_path: Path, killed_at_exit: list[asyncio.subprocess.Process]
) -> None:
    process = await _spawn(
        "serve", "--grpc-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0", cwd=tmp_path
    )
    killed_at_exit.append(process)
    grpc_match = _GRPC.search(await _line(process))
    assert "migrations applied" in await _line(process)
    rest_match = _REST.search(await _line(process))
    assert grpc_match and rest_match
    async with httpx.AsyncClient(base_url=rest_match[1]) as http:
        started = await http.post("/v1/namespaces/default/runs", json={"workflowName": "wf"})
        assert started.status_code == 200, started.text
        assert (await http.get("/readyz")).status_code == 200
    async with grpc.aio.insecure_channel(grpc_match[1]) as channel:
        stub = workflow_service_pb2_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
        reply = await stub.GetWorkflowRun(
            wf.GetWorkflowRunRequest(run_id=started.json()["run"]["runId"])
        )
        assert reply.run.workflow_name == "wf"
    code, rest = await _terminate(process)
    assert code == 0
    assert "stopped" in rest


async def test_gateway__alone_in_front_of_a_separately_started_core(
    tmp_path: Path, killed_at_exit: list[asyncio.subprocess.Process]
) -> None:
    api = await start_api(sqlite_url_for(tmp_path / "core.db"))
    try:
        process = await _spawn(
            "gateway",
            "--grpc-backend",
            api.server.address,
            "--http-address",
            "127.0.0.1:0",
            "--trace-url-template",
            "http://jaeger:16686/trace/{trace_id}",
            cwd=tmp_path,
        )
        killed_at_exit.append(process)
        line = await _line(process)
        rest_match = _REST.search(line)
        assert rest_match, line
        assert f"gRPC backend {api.server.address}" in line
        async with httpx.AsyncClient(base_url=rest_match[1]) as http:
            started = await http.post(
                "/v1/namespaces/default/runs", json={"workflowName": "remote"}
            )
            assert started.status_code == 200, started.text
            dashboard = await http.get("/ui")
            assert 'content="http://jaeger:16686/trace/{trace_id}"' in dashboard.text
        run_id = started.json()["run"]["runId"]
        reply = await api.workflow.GetWorkflowRun(wf.GetWorkflowRunRequest(run_id=run_id))
        assert reply.run.workflow_name == "remote"
        code, _ = await _terminate(process)
        assert code == 0
    finally:
        await stop_api(api)


async def test_serve__taken_http_address_exits_with_a_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await _spawn(
            "serve",
            "--grpc-address",
            "127.0.0.1:0",
            "--http-address",
            f"127.0.0.1:{port}",
            cwd=tmp_path,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in stderr.decode()
    assert "Traceback" not in stderr.decode()


async def test_gateway__requires_a_backend(tmp_path: Path) -> None:
    process = await _spawn("gateway", cwd=tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    assert "--grpc-backend" in stderr.decode()
