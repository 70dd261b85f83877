"""`stepline-server serve|migrate`: flags, each defaulting to a STEPLINE_* variable."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from services.config import EVENT_LOOPS, ServerConfig, parse_duration
from services.server import Server, StartupError
from storage import StoreError, create_store

_DEFAULTS = ServerConfig()


def _env(name: str, default: object) -> str:
    return os.environ.get(f"STEPLINE_{name}", str(default))


def _seconds(value: object) -> str:
    return value if isinstance(value, str) else f"{value.total_seconds():g}s"  # type: ignore[attr-defined]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stepline-server", description="The stepline durable-workflow server."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url",
        default=_env("DATABASE_URL", _DEFAULTS.database_url),
        help="postgresql://… or sqlite:///path (env STEPLINE_DATABASE_URL; default %(default)s)",
    )
    common.add_argument(
        "--log-level", default=_env("LOG_LEVEL", _DEFAULTS.log_level), help="default %(default)s"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", parents=[common], help="run the server")
    serve.add_argument(
        "--grpc-address",
        default=_env("GRPC_ADDRESS", _DEFAULTS.grpc_address),
        help="host:port to listen on (env STEPLINE_GRPC_ADDRESS; default %(default)s)",
    )
    for flag, env, default, text in (
        ("--lease-duration", "LEASE_DURATION", _DEFAULTS.lease_duration, "worker lease"),
        ("--shutdown-grace", "SHUTDOWN_GRACE", _DEFAULTS.shutdown_grace, "drain time"),
        ("--sweep-interval", "SWEEP_INTERVAL", _DEFAULTS.sweep_interval, "deadline sweep"),
        ("--poll-fallback", "POLL_FALLBACK", _DEFAULTS.poll_fallback, "long-poll re-check"),
        (
            "--db-pool-timeout",
            "DB_POOL_TIMEOUT",
            _DEFAULTS.db_pool_timeout,
            "wait for a connection",
        ),
    ):
        serve.add_argument(
            flag,
            type=parse_duration,
            default=parse_duration(_env(env, _seconds(default))),
            help=f"{text} (env STEPLINE_{env}; default {_seconds(default)})",
        )
    serve.add_argument(
        "--max-payload-bytes",
        type=int,
        default=int(_env("MAX_PAYLOAD_BYTES", _DEFAULTS.max_payload_bytes)),
        help="per payload (env STEPLINE_MAX_PAYLOAD_BYTES; default %(default)s)",
    )
    serve.add_argument(
        "--event-loop",
        choices=EVENT_LOOPS,
        default=_env("EVENT_LOOP", _DEFAULTS.event_loop),
        help="uvloop (faster) or asyncio (env STEPLINE_EVENT_LOOP; default %(default)s)",
    )
    serve.add_argument(
        "--db-pool-size",
        type=int,
        default=int(_env("DB_POOL_SIZE", _DEFAULTS.db_pool_size)),
        help="PostgreSQL connections (env STEPLINE_DB_POOL_SIZE; default %(default)s)",
    )
    commands.add_parser("migrate", parents=[common], help="apply database migrations and exit")
    return parser


def _config(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        database_url=args.database_url,
        grpc_address=args.grpc_address,
        lease_duration=args.lease_duration,
        max_payload_bytes=args.max_payload_bytes,
        db_pool_size=args.db_pool_size,
        db_pool_timeout=args.db_pool_timeout,
        shutdown_grace=args.shutdown_grace,
        sweep_interval=args.sweep_interval,
        poll_fallback=args.poll_fallback,
        log_level=args.log_level,
        event_loop=args.event_loop,
    )


async def _serve(config: ServerConfig) -> None:
    server = Server(config)
    await server.start()
    print(
        f"stepline-server: gRPC listening on {server.address}; "
        f"database {server.store.url_for_display}",
        flush=True,
    )
    applied = ", ".join(server.migrations_applied) or "none (up to date)"
    print(f"stepline-server: migrations applied: {applied}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("stepline-server: shutting down: ending long polls, draining calls", flush=True)
    await server.stop()
    print("stepline-server: stopped", flush=True)


async def _migrate(database_url: str) -> None:
    store = create_store(database_url)
    await store.start()
    try:
        applied = await store.migrate()
    finally:
        await store.close()
    names = ", ".join(applied) if applied else "none (up to date)"
    print(f"stepline-server: database {store.url_for_display}; migrations applied: {names}")


def _run(main: Coroutine[Any, Any, None], event_loop: str) -> None:
    if event_loop == "uvloop":
        try:
            import uvloop
        except ImportError:  # not built for this platform: the standard loop works too
            pass
        else:
            uvloop.run(main)
            return
    asyncio.run(main)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "migrate":
            asyncio.run(_migrate(args.database_url))
        else:
            config = _config(args)
            _run(_serve(config), config.event_loop)
    except (ValueError, StartupError, StoreError) as exc:
        raise SystemExit(f"stepline-server: {exc}") from None


if __name__ == "__main__":
    main()
