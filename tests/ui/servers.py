"""A real `stepline-server serve` (gRPC and REST on free loopback ports, a SQLite file)
and a `stepline worker` for the dashboard's tests."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.cli import processes

_GRPC = re.compile(r"gRPC listening on (\S+);")
_REST = re.compile(r"REST listening on (http://\S+)")
TRACE_TEMPLATE = "http://traces.example/trace/{trace_id}"


@dataclass(frozen=True)
class Dashboard:
    grpc_address: str
    base_url: str

    @property
    def ui(self) -> str:
        return f"{self.base_url}/ui"


@contextmanager
def dashboard_server(
    database_url: str, workdir: Path, auth: str = "off", extra: Sequence[str] = ()
) -> Iterator[Dashboard]:
    """The server with its REST gateway and dashboard, until the block ends; `extra`
    are more `serve` options."""
    process = subprocess.Popen(
        [
            processes.BIN / "stepline-server",
            "serve",
            "--grpc-address",
            "127.0.0.1:0",
            "--http-address",
            "127.0.0.1:0",
            "--trace-url-template",
            TRACE_TEMPLATE,
            "--auth",
            auth,
            *extra,
        ],
        cwd=workdir,
        env=processes.environment(STEPLINE_DATABASE_URL=database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        grpc_address = rest_url = ""
        seen: list[str] = []
        while not rest_url:
            line = process.stdout.readline()
            assert line, f"server ended before REST was up: {seen!r}"
            seen.append(line)
            if match := _GRPC.search(line):
                grpc_address = match[1]
            if match := _REST.search(line):
                rest_url = match[1]
        yield Dashboard(grpc_address=grpc_address, base_url=rest_url)
    finally:
        processes.stop(process)
        if process.stdout is not None:
            process.stdout.close()


@contextmanager
def ui_worker(address: str, queue: str) -> Iterator[None]:
    with processes.worker(address, "tests.ui.apps:workflows", "--task-queue", queue):
        yield


def create_key(database_url: str, namespace: str, role: str) -> str:
    """A key made with `stepline-server keys create` (no server needed); its secret."""
    made = subprocess.run(
        [
            *(processes.BIN / "stepline-server", "keys", "create", "--database-url", database_url),
            *("--namespace", namespace, "--role", role, "--name", f"ui-{role}"),
        ],
        env=processes.environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip()
