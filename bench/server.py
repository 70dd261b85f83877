"""The stepline server as a subprocess: started on a free loopback port, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_LINE = re.compile(r"gRPC listening on (\S+);")
REST_LINE = re.compile(r"REST listening on http://([^\s;]+)")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


class ServerFailed(RuntimeError):
    """The server did not start, or did not stop cleanly."""


@dataclass(frozen=True, slots=True)
class RunningServer:
    address: str
    pid: int
    http_address: str | None = None
    """host:port of the REST gateway, when the server was started with it."""


def server_command(database_url: str, *, rest: bool = False, processes: int = 1) -> list[str]:
    # Port 0: the server binds a free port and prints it, so there is no race for one.
    # No REST gateway unless asked for: its default port (8080) may be taken.
    more = [] if processes == 1 else ["--processes", str(processes)]
    return [
        sys.executable,
        "-m",
        "services.cli",
        "serve",
        "--database-url",
        database_url,
        "--grpc-address",
        "127.0.0.1:0",
        "--http-address",
        "127.0.0.1:0" if rest else "",
        *more,
    ]


@contextlib.asynccontextmanager
async def running_server(
    database_url: str,
    *,
    rest: bool = False,
    environ: Mapping[str, str] | None = None,
    processes: int = 1,
) -> AsyncIterator[RunningServer]:
    """Start a server (with the REST gateway if `rest`; with `environ` instead of this
    process's environment if given; `processes` server processes on one port), yield its
    addresses once it listens, then SIGTERM it and wait."""
    patterns = [READY_LINE, REST_LINE] if rest else [READY_LINE]
    command = server_command(database_url, rest=rest, processes=processes)
    async with _running(command, patterns, environ) as (pid, found):
        yield RunningServer(address=found[0], pid=pid, http_address=found[1] if rest else None)


def gateway_command(grpc_backend: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "services.cli",
        "gateway",
        "--grpc-backend",
        grpc_backend,
        "--http-address",
        "127.0.0.1:0",
    ]


@contextlib.asynccontextmanager
async def running_gateway(grpc_backend: str) -> AsyncIterator[RunningServer]:
    """Start the REST gateway alone (`stepline-server gateway`), in front of a server at
    `grpc_backend`; yield it once it listens (`address` is the backend), then stop it."""
    async with _running(gateway_command(grpc_backend), [REST_LINE]) as (pid, found):
        yield RunningServer(address=grpc_backend, pid=pid, http_address=found[0])


@contextlib.asynccontextmanager
async def _running(
    command: list[str],
    patterns: list[re.Pattern[str]],
    environ: Mapping[str, str] | None = None,
    cwd: Path = REPO_ROOT,
) -> AsyncIterator[tuple[int, list[str]]]:
    """Run `command` in `cwd`; yield (pid, the first group of each pattern, matched in
    order on stdout); then SIGTERM it and wait."""
    with tempfile.TemporaryFile("w+") as stderr:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=None if environ is None else dict(environ),
        )
        try:
            found = [await _wait_for_line(process, stderr, pattern) for pattern in patterns]
            yield process.pid, found
        finally:
            await _stop(process, stderr)


async def _wait_for_line(
    process: asyncio.subprocess.Process, stderr: IO[str], pattern: re.Pattern[str]
) -> str:
    """The first group of the first stdout line matching `pattern`."""
    assert process.stdout is not None
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while line := (await process.stdout.readline()).decode():
                if match := pattern.search(line):
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
