"""`stepline-server serve --processes N`: N server processes behind one address.

One Python process runs one event loop, so one server uses about one core. With
`--processes N` the process started becomes a supervisor: it applies the migrations
once, picks the ports (a port 0 becomes a free port, held by a bound SO_REUSEPORT socket
so that nobody else takes it), and starts N ordinary `serve` processes on the same gRPC
and REST ports with SO_REUSEPORT (`--reuse-port`): the kernel spreads new connections
across them. They share nothing but the database: wake-ups cross processes by
LISTEN/NOTIFY, as they cross servers, so only PostgreSQL can be served this way.

The supervisor prints the usual "listening" lines once every process listens, forwards
SIGTERM/SIGINT to them (each drains as a single server does), and exits with the first
failure. If a process dies on its own, the others are stopped and the supervisor exits
non-zero, so that the service manager (systemd, Kubernetes) restarts the whole server.
Each process also watches a pipe from the supervisor (its stdin): if the supervisor
itself is killed, the pipe closes and the processes shut down gracefully, not orphaned.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator, Sequence

from services.config import ServerConfig
from services.server import StartupError
from services.tls import banner_note, check_files
from storage import create_store

CHILD_READY_TIMEOUT = 60.0
# Set for the processes a supervisor starts: stop when stdin (its pipe) closes.
SUPERVISED_ENV = "STEPLINE_SUPERVISED"
_GRPC_READY = "gRPC listening on "
_REST_READY = "REST listening on "


def _split(address: str) -> tuple[str, int]:
    """("host", port) of "host:port" or "[v6]:port"; ValueError otherwise."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"not a host:port address: {address!r}")
    return host.strip("[]"), int(port)


def reserve(address: str) -> tuple[str, socket.socket]:
    """`address` with a concrete port, and a bound (not listening) SO_REUSEPORT socket
    that holds it for the processes that will listen on it."""
    host, port = _split(address)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{sock.getsockname()[1]}", sock


async def apply_migrations(database_url: str) -> tuple[str, list[str]]:
    """Migrate the database (`stepline-server migrate`, and a supervisor before it starts
    its processes): (the URL to show, the migrations applied)."""
    store = create_store(database_url)
    await store.start()
    try:
        return store.url_for_display, await store.migrate()
    finally:
        await store.close()


class Supervisor:
    def __init__(self, config: ServerConfig, processes: int, argv: Sequence[str]) -> None:
        if not config.database_url.startswith(("postgresql://", "postgres://")):
            raise ValueError("--processes needs PostgreSQL: a SQLite file is served by one process")
        if config.tls:
            check_files(config)  # one clear error here, not one per process
        self.config = config
        self.processes = processes
        self.argv = list(argv)
        self.children: list[asyncio.subprocess.Process] = []

    def child_command(self, grpc_address: str, http_address: str) -> list[str]:
        # argparse keeps the last value of a repeated flag: these override the user's.
        return [
            sys.executable,
            "-m",
            "services.cli",
            *self.argv,
            "--processes",
            "1",
            "--reuse-port",
            "--grpc-address",
            grpc_address,
            "--http-address",
            http_address,
        ]

    async def run(self, stop: asyncio.Event) -> int:
        """Serve until `stop` is set (SIGTERM/SIGINT); the exit status."""
        await apply_migrations(self.config.database_url)
        with self._reserved() as (grpc_address, http_address):
            command = self.child_command(grpc_address, http_address)
            for _ in range(self.processes):
                self.children.append(
                    await asyncio.create_subprocess_exec(
                        *command,
                        stdin=asyncio.subprocess.PIPE,
                        stdout=asyncio.subprocess.PIPE,
                        env={**os.environ, SUPERVISED_ENV: "1"},
                    )
                )
            try:
                await asyncio.wait_for(self._all_ready(bool(http_address)), CHILD_READY_TIMEOUT)
            except (TimeoutError, RuntimeError) as exc:
                await self._stop_all()
                raise StartupError(f"a server process did not start: {exc}") from None
            self._announce(grpc_address, http_address)
            return await self._supervise(stop)

    @contextlib.contextmanager
    def _reserved(self) -> Iterator[tuple[str, str]]:
        grpc_address, grpc_hold = reserve(self.config.grpc_address)
        try:
            if not self.config.http_address:
                yield grpc_address, ""
                return
            http_address, http_hold = reserve(self.config.http_address)
            try:
                yield grpc_address, http_address
            finally:
                http_hold.close()
        finally:
            grpc_hold.close()

    async def _all_ready(self, rest: bool) -> None:
        await asyncio.gather(*(_ready(child, rest) for child in self.children))

    def _announce(self, grpc_address: str, http_address: str) -> None:
        print(
            f"stepline-server: gRPC listening on {grpc_address}; {banner_note(self.config)}"
            f"{self.processes} processes "
            f"(pids {', '.join(str(c.pid) for c in self.children)})",
            flush=True,
        )
        if http_address:
            scheme = "https" if self.config.tls else "http"
            print(f"stepline-server: REST listening on {scheme}://{http_address}", flush=True)

    async def _supervise(self, stop: asyncio.Event) -> int:
        forwarding = [asyncio.create_task(_forward(child)) for child in self.children]
        exited = [asyncio.create_task(child.wait()) for child in self.children]
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({stopping, *exited}, return_when=asyncio.FIRST_COMPLETED)
        if not stopping.done():
            crashed = next(c for c in self.children if c.returncode is not None)
            print(
                f"stepline-server: process {crashed.pid} exited ({crashed.returncode}); "
                "stopping the others",
                file=sys.stderr,
                flush=True,
            )
        stopping.cancel()
        codes = await self._stop_all()
        await asyncio.gather(*forwarding, return_exceptions=True)
        print("stepline-server: stopped", flush=True)
        return next((code for code in codes if code), 0) or (0 if stop.is_set() else 1)

    async def _stop_all(self) -> list[int]:
        for child in self.children:
            if child.returncode is None:
                child.send_signal(signal.SIGTERM)
        return list(await asyncio.gather(*(child.wait() for child in self.children)))


async def _ready(child: asyncio.subprocess.Process, rest: bool) -> None:
    """Read the child's banner until it listens on every port it serves."""
    assert child.stdout is not None
    waiting = {_GRPC_READY, _REST_READY} if rest else {_GRPC_READY}
    while waiting:
        line = (await child.stdout.readline()).decode()
        if not line:
            raise RuntimeError(f"process {child.pid} exited with status {await child.wait()}")
        waiting = {marker for marker in waiting if marker not in line}


async def _forward(child: asyncio.subprocess.Process) -> None:
    """The child's later stdout lines (its shutdown messages), tagged with its pid."""
    assert child.stdout is not None
    while line := (await child.stdout.readline()).decode():
        print(f"[{child.pid}] {line}", end="", flush=True)


async def stop_when_supervisor_goes(stop: asyncio.Event) -> None:
    """In a supervised process: set `stop` once the supervisor's pipe (stdin) closes."""
    if os.environ.get(SUPERVISED_ENV) != "1":
        return
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()
    stop.set()
