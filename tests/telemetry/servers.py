"""`stepline-server serve` processes with tracing on, for the tracing tests."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.cli.processes import BIN, environment, stop

_GRPC = re.compile(r"gRPC listening on (\S+);")
_REST = re.compile(r"REST listening on (http://\S+)")


@dataclass(frozen=True)
class Served:
    grpc: str  # host:port
    rest: str  # http://host:port
    log: Path  # the server's stderr


@contextmanager
def traced_server(
    database_url: str, workdir: Path, otel: dict[str, str], *flags: str
) -> Iterator[Served]:
    """A server with gRPC and REST on free loopback ports, exporting spans per `otel`
    (only: OTEL_* variables of this process are not passed on)."""
    log = workdir / "server.log"
    env = environment(STEPLINE_DATABASE_URL=database_url, STEPLINE_HTTP_ADDRESS="127.0.0.1:0")
    env = {k: v for k, v in env.items() if not k.startswith("OTEL_")} | otel
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [BIN / "stepline-server", "serve", "--grpc-address", "127.0.0.1:0", *flags],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        yield _started(process, log)
    finally:
        stop(process)
        if process.stdout is not None:
            process.stdout.close()


def _started(process: subprocess.Popen[str], log: Path) -> Served:
    assert process.stdout is not None
    grpc = rest = None
    for line in process.stdout:
        if found := _GRPC.search(line):
            grpc = found[1]
        if found := _REST.search(line):
            rest = found[1]
            break
    assert grpc and rest, f"server did not start: {log.read_text()}"
    return Served(grpc, rest, log)
