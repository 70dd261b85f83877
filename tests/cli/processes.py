"""Real processes for CLI tests: `stepline-server serve`, `stepline worker`, `stepline`.

Synchronous on purpose: the CLI runs its own event loop (`asyncio.run`), so the tests
that call `main()` in-process are plain functions, and the server lives in a process.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
_LISTENING = re.compile(r"gRPC listening on (\S+);")
# The caller's own credentials must not leak into the processes under test.
CREDENTIAL_VARIABLES = (
    "STEPLINE_API_KEY",
    "STEPLINE_TLS_CA",
    "STEPLINE_TLS_CERT",
    "STEPLINE_TLS_KEY",
    "STEPLINE_TLS_SERVER_NAME",
)
_QUIET = {"STEPLINE_LOG_LEVEL": "WARNING", "NO_COLOR": "1"}


def environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, **_QUIET}
    for name in ("STEPLINE_ADDRESS", "STEPLINE_NAMESPACE", "COLUMNS", *CREDENTIAL_VARIABLES):
        env.pop(name, None)
    return {**env, **extra}


@contextmanager
def server(database_url: str, workdir: Path, **settings: str) -> Iterator[str]:
    """`stepline-server serve` on a free loopback port; yields its address."""
    process = subprocess.Popen(
        [BIN / "stepline-server", "serve", "--grpc-address", "127.0.0.1:0"],
        cwd=workdir,
        # No REST gateway: its fixed default port would clash between test servers.
        env=environment(STEPLINE_DATABASE_URL=database_url, STEPLINE_HTTP_ADDRESS="", **settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = _LISTENING.search(line)
        assert match, f"server did not start: {line!r}"
        yield match[1]
    finally:
        stop(process)
        _close(process)


@contextmanager
def worker(
    address: str, app: str, *flags: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """`stepline worker --app APP` from the repository root, until the block ends."""
    quiet = ("--log-level", "WARNING")  # the worker's stderr is a pipe nobody drains
    process = spawn_cli("--address", address, "worker", "--app", app, *quiet, *flags, env=env)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "stepline worker: running" in line, line + _rest(process)
        yield process
    finally:
        stop(process)
        _close(process)


def spawn_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [BIN / "stepline", *args],
        cwd=ROOT,
        env=environment(**(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real `stepline` console script, to its end."""
    return subprocess.run(
        [BIN / "stepline", *args],
        cwd=ROOT,
        env=environment(**(env or {})),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    """Wait for a spawned `stepline` to end; its exit code and output."""
    try:
        out, err = process.communicate(timeout=60)
    finally:
        stop(process)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def stop(process: subprocess.Popen[str]) -> int:
    """SIGTERM, then SIGKILL if it lingers; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def _rest(process: subprocess.Popen[str]) -> str:
    stop(process)
    assert process.stderr is not None
    return process.stderr.read()


def _close(process: subprocess.Popen[str]) -> None:
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
