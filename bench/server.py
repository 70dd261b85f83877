"""The stepline server as a subprocess: started on a free loopback port, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_LINE = re.compile(r"gRPC listening on (\S+);")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


class ServerFailed(RuntimeError):
    """The server did not start, or did not stop cleanly."""


@dataclass(frozen=True, slots=True)
class RunningServer:
    address: str
    pid: int


def server_command(database_url: str) -> list[str]:
    # Port 0: the server binds a free port and prints it, so there is no race for one.
    return [
        sys.executable,
        "-m",
        "services.cli",
        "serve",
        "--database-url",
        database_url,
        "--grpc-address",
        "127.0.0.1:0",
    ]


@contextlib.asynccontextmanager
async def running_server(database_url: str) -> AsyncIterator[RunningServer]:
    """Start a server, yield its address once it listens, then SIGTERM it and wait."""
    with tempfile.TemporaryFile("w+") as stderr:
        process = await asyncio.create_subprocess_exec(
            *server_command(database_url),
            cwd=REPO_ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
        try:
            address = await _wait_until_listening(process, stderr)
            yield RunningServer(address=address, pid=process.pid)
        finally:
            await _stop(process, stderr)


async def _wait_until_listening(process: asyncio.subprocess.Process, stderr: IO[str]) -> str:
    assert process.stdout is not None
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while line := (await process.stdout.readline()).decode():
                if match := READY_LINE.search(line):
                    return match[1]
    except TimeoutError:
        pass
    raise ServerFailed(f"the server did not start:\n{_tail(stderr)}")


async def _stop(process: asyncio.subprocess.Process, stderr: IO[str]) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        # Read what it prints while shutting down, so that a full pipe never blocks it.
        assert process.stdout is not None
        await asyncio.wait_for(process.stdout.read(), STOP_TIMEOUT)
        code = await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise ServerFailed(f"the server did not stop on SIGTERM:\n{_tail(stderr)}") from None
    if code != 0:
        raise ServerFailed(f"the server exited with status {code}:\n{_tail(stderr)}")


def _tail(stderr: IO[str], lines: int = 30) -> str:
    stderr.seek(0)
    return "".join(stderr.readlines()[-lines:]) or "(no output on stderr)"
