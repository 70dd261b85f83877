"""`stepline-server serve --processes N`: N processes behind one port, through the real
console script on PostgreSQL. Connections are spread across the processes (checked in
/proc: each process holds accepted connections of the port), work flows through them,
SIGTERM stops them all, a process that dies takes the server down, and SQLite is refused."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from stepline.v1 import workflow_service_pb2 as wf
from stepline.v1 import workflow_service_pb2_grpc
from tests.sdk.conftest import eventually

pytestmark = [pytest.mark.slow]

SCRIPT = Path(sys.executable).with_name("stepline-server")
_BANNER = re.compile(r"gRPC listening on (\S+); 2 processes \(pids (\d+), (\d+)\)")
CONNECTIONS = 16


class Served:
    def __init__(self, process: asyncio.subprocess.Process, address: str, pids: list[int]):
        self.process = process
        self.address = address
        self.pids = pids


async def _start(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(SCRIPT),
        "serve",
        "--processes",
        "2",
        "--grpc-address",
        "127.0.0.1:0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "STEPLINE_LOG_LEVEL": "WARNING"},
    )


@pytest_asyncio.fixture
async def served(postgres_url: str) -> AsyncIterator[Served]:
    process = await _start("--database-url", postgres_url, "--http-address", "127.0.0.1:0")
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
    match = _BANNER.search(line)
    assert match, line
    rest = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
    assert "REST listening on http://127.0.0.1:" in rest
    try:
        yield Served(process, match[1], [int(match[2]), int(match[3])])
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 60)


@pytest.mark.postgres
async def test_processes__share_the_port_and_each_serves_connections(
    served: Served, ns: str
) -> None:
    channels = [
        grpc.aio.insecure_channel(served.address, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(CONNECTIONS)
    ]
    try:
        for channel in channels:
            stub = workflow_service_pb2_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
            request = wf.StartWorkflowRequest(namespace_id=ns, workflow_name="spread")
            response = await stub.StartWorkflow(request)
            assert response.run.run_id
        port = int(served.address.rsplit(":", 1)[1])
        accepted = {pid: _accepted_connections(pid, port) for pid in served.pids}
    finally:
        for channel in channels:
            await channel.close(None)

    assert all(accepted.values()), accepted  # 2 ** -15 odds of a false failure
    assert sum(accepted.values()) >= CONNECTIONS


@pytest.mark.postgres
async def test_processes__sigterm_stops_every_process(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(served.process.wait(), 60) == 0
    assert served.process.stdout is not None
    assert "stopped" in (await served.process.stdout.read()).decode()
    assert all(_gone(pid) for pid in served.pids)


@pytest.mark.postgres
async def test_processes__stop_when_the_supervisor_is_killed(served: Served) -> None:
    served.process.kill()
    await served.process.wait()
    # Not orphaned: they saw the supervisor's pipe close, and shut down.
    await eventually(lambda: all(_gone(pid) for pid in served.pids), within=60)


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (an orphan's is reaped by init later)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.postgres
async def test_processes__one_dying_stops_the_server_with_a_failure(served: Served) -> None:
    os.kill(served.pids[0], signal.SIGKILL)
    assert await asyncio.wait_for(served.process.wait(), 60) != 0
    assert served.process.stderr is not None
    assert f"process {served.pids[0]} exited" in (await served.process.stderr.read()).decode()
    assert _gone(served.pids[1])


async def test_processes__are_refused_on_sqlite(tmp_path: Path) -> None:
    process = await _start("--database-url", f"sqlite:///{tmp_path / 's.db'}")
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    assert "--processes needs PostgreSQL" in stderr.decode()


def _accepted_connections(pid: int, port: int) -> int:
    """ESTABLISHED TCP sockets of process `pid` whose local port is `port` (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count
