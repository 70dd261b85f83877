"""`stepline-server serve|gateway|migrate`: flags, each defaulting to a STEPLINE_* variable.

`serve` runs the gRPC server and the REST gateway in one process; `gateway` runs the
REST gateway alone, in front of a remote gRPC core (`--grpc-backend`)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from services import auth_mode, keys_command
from services.config import AUTH_MODES, EVENT_LOOPS, LOG_FORMATS, ServerConfig, parse_duration
from services.processes import Supervisor, apply_migrations, stop_when_supervisor_goes
from services.rest import loopback_backend, rest_server, start_http
from services.server import Server, StartupError
from services.tls import banner_note, check_files
from stepline import tracing
from stepline.logs import configure as configure_logs
from stepline.tls import TLSConfig
from storage import StoreError

_DEFAULTS = ServerConfig()


def _env(name: str, default: object) -> str:
    return os.environ.get(f"STEPLINE_{name}", str(default))


def _seconds(value: object) -> str:
    return value if isinstance(value, str) else f"{value.total_seconds():g}s"  # type: ignore[attr-defined]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stepline-server", description="The stepline durable-workflow server."
    )
    logs = argparse.ArgumentParser(add_help=False)
    logs.add_argument(
        "--log-level", default=_env("LOG_LEVEL", _DEFAULTS.log_level), help="default %(default)s"
    )
    logs.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=_env("LOG_FORMAT", _DEFAULTS.log_format),
        help="text, or JSON lines with trace_id, span_id and run_id "
        "(env STEPLINE_LOG_FORMAT; default %(default)s)",
    )
    common = argparse.ArgumentParser(add_help=False, parents=[logs])
    common.add_argument(
        "--database-url",
        default=_env("DATABASE_URL", _DEFAULTS.database_url),
        help="postgresql://… or sqlite:///path (env STEPLINE_DATABASE_URL; default %(default)s)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", parents=[common], help="run the server")
    serve.add_argument(
        "--grpc-address",
        default=_env("GRPC_ADDRESS", _DEFAULTS.grpc_address),
        help="host:port to listen on (env STEPLINE_GRPC_ADDRESS; default %(default)s)",
    )
    _add_http_flags(serve, ' ("" for none)')
    _add_tls_flags(serve, client_ca=True)
    for flag, env, default, text in (
        ("--lease-duration", "LEASE_DURATION", _DEFAULTS.lease_duration, "worker lease"),
        ("--sweep-interval", "SWEEP_INTERVAL", _DEFAULTS.sweep_interval, "deadline sweep"),
        ("--poll-fallback", "POLL_FALLBACK", _DEFAULTS.poll_fallback, "long-poll re-check"),
        (
            "--retention-interval",
            "RETENTION_INTERVAL",
            _DEFAULTS.retention_interval,
            "from one retention pass to the next",
        ),
        (
            "--retention-pause",
            "RETENTION_PAUSE",
            _DEFAULTS.retention_pause,
            "between two retention batches",
        ),
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
    _add_payload_flag(serve)
    serve.add_argument(
        "--event-loop",
        choices=EVENT_LOOPS,
        default=_env("EVENT_LOOP", _DEFAULTS.event_loop),
        help="uvloop (faster) or asyncio (env STEPLINE_EVENT_LOOP; default %(default)s)",
    )
    serve.add_argument(
        "--processes",
        type=int,
        default=int(_env("PROCESSES", 1)),
        help="server processes sharing the ports, PostgreSQL only: about one core each "
        "(env STEPLINE_PROCESSES; default %(default)s)",
    )
    serve.add_argument(
        "--reuse-port",
        action="store_true",
        default=_env("REUSE_PORT", "") in ("1", "true"),
        help="bind with SO_REUSEPORT, so that several processes share the ports "
        "(set by --processes for its own; env STEPLINE_REUSE_PORT)",
    )
    serve.add_argument(
        "--require-registered",
        action="store_true",
        default=_env("REQUIRE_REGISTERED", "") in ("1", "true"),
        help="refuse StartWorkflow of a workflow no worker ever registered, NOT_FOUND "
        "WORKFLOW_NOT_FOUND (env STEPLINE_REQUIRE_REGISTERED; default: accept, with a warning)",
    )
    serve.add_argument(
        "--max-crashes",
        type=int,
        default=int(_env("MAX_CRASHES", _DEFAULTS.max_crashes)),
        help="fail a run with WORKER_CRASHED once its lease expired this many times in a row "
        "with no step completed; 0 for no limit (env STEPLINE_MAX_CRASHES; default %(default)s)",
    )
    serve.add_argument(
        "--retention-batch",
        type=int,
        default=int(_env("RETENTION_BATCH", _DEFAULTS.retention_batch)),
        help="runs deleted per retention transaction (env STEPLINE_RETENTION_BATCH; "
        "default %(default)s)",
    )
    serve.add_argument(
        "--db-pool-size",
        type=int,
        default=int(_env("DB_POOL_SIZE", _DEFAULTS.db_pool_size)),
        help="PostgreSQL connections (env STEPLINE_DB_POOL_SIZE; default %(default)s)",
    )
    _add_auth_flags(serve)
    commands.add_parser("migrate", parents=[common], help="apply database migrations and exit")
    keys_command.add_parser(commands, common)
    _gateway_parser(commands, logs)
    return parser


def _add_auth_flags(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--auth",
        choices=AUTH_MODES,
        default=os.environ.get("STEPLINE_AUTH") or None,
        help="require an API key on every call, or not (env STEPLINE_AUTH; default: off "
        "when every listener is on loopback, required otherwise)",
    )
    serve.add_argument(
        "--metrics-auth",
        action="store_true",
        default=_env("METRICS_AUTH", "") in ("1", "true"),
        help="GET /metrics needs an operator key too, with --auth required "
        "(env STEPLINE_METRICS_AUTH)",
    )


def _add_payload_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--max-payload-bytes",
        type=int,
        default=int(_env("MAX_PAYLOAD_BYTES", _DEFAULTS.max_payload_bytes)),
        help="per payload (env STEPLINE_MAX_PAYLOAD_BYTES; default %(default)s)",
    )


def _add_tls_flags(command: argparse.ArgumentParser, *, client_ca: bool) -> None:
    # STEPLINE_SERVER_TLS_*, not STEPLINE_TLS_*: those name the client's own certificate
    # for the SDK and the `stepline` CLI, and a shell may well hold both.
    ports = "gRPC and REST" if client_ca else "REST"
    command.add_argument(
        "--tls-cert",
        metavar="PEM",
        default=os.environ.get("STEPLINE_SERVER_TLS_CERT", ""),
        help=f"certificate chain: serve {ports} over TLS (env STEPLINE_SERVER_TLS_CERT)",
    )
    command.add_argument(
        "--tls-key",
        metavar="PEM",
        default=os.environ.get("STEPLINE_SERVER_TLS_KEY", ""),
        help="the certificate's private key (env STEPLINE_SERVER_TLS_KEY)",
    )
    if client_ca:
        command.add_argument(
            "--tls-client-ca",
            metavar="PEM",
            default=os.environ.get("STEPLINE_SERVER_TLS_CLIENT_CA", ""),
            help="require gRPC clients (workers) to present a certificate signed by "
            "these CAs: mTLS (env STEPLINE_SERVER_TLS_CLIENT_CA)",
        )


def _add_http_flags(command: argparse.ArgumentParser, note: str = "") -> None:
    command.add_argument(
        "--http-address",
        default=_env("HTTP_ADDRESS", _DEFAULTS.http_address),
        help=f"REST host:port{note} (env STEPLINE_HTTP_ADDRESS; default %(default)s)",
    )
    default = _seconds(_DEFAULTS.http_default_timeout)
    command.add_argument(
        "--http-default-timeout",
        type=parse_duration,
        default=parse_duration(_env("HTTP_DEFAULT_TIMEOUT", default)),
        help="deadline of a REST call without a Grpc-Timeout header, 0 for none "
        f"(env STEPLINE_HTTP_DEFAULT_TIMEOUT; default {default})",
    )
    default = _seconds(_DEFAULTS.http_header_timeout)
    command.add_argument(
        "--http-header-timeout",
        type=parse_duration,
        default=parse_duration(_env("HTTP_HEADER_TIMEOUT", default)),
        help="a request's headers must arrive within this of its first byte, else 408 "
        f"(env STEPLINE_HTTP_HEADER_TIMEOUT; default {default})",
    )
    default = _seconds(_DEFAULTS.http_body_timeout)
    command.add_argument(
        "--http-body-timeout",
        type=parse_duration,
        default=parse_duration(_env("HTTP_BODY_TIMEOUT", default)),
        help="a request's body must arrive within this of its headers, else 408 "
        f"(env STEPLINE_HTTP_BODY_TIMEOUT; default {default})",
    )
    command.add_argument(
        "--http-max-connections",
        type=int,
        default=int(_env("HTTP_MAX_CONNECTIONS", _DEFAULTS.http_max_connections)),
        help="open REST connections per process; one more is answered 503 "
        "(env STEPLINE_HTTP_MAX_CONNECTIONS; default %(default)s)",
    )
    default = _seconds(_DEFAULTS.shutdown_grace)
    command.add_argument(
        "--shutdown-grace",
        type=parse_duration,
        default=parse_duration(_env("SHUTDOWN_GRACE", default)),
        help=f"drain time (env STEPLINE_SHUTDOWN_GRACE; default {default})",
    )
    command.add_argument(
        "--trace-url-template",
        default=_env("TRACE_URL_TEMPLATE", ""),
        help="the dashboard's trace link, {trace_id} replaced, e.g. "
        "http://localhost:16686/trace/{trace_id} (env STEPLINE_TRACE_URL_TEMPLATE)",
    )


def _gateway_parser(commands: Any, logs: argparse.ArgumentParser) -> None:
    gateway = commands.add_parser(
        "gateway", parents=[logs], help="run the REST gateway alone, in front of a gRPC core"
    )
    gateway.add_argument(
        "--grpc-backend",
        default=os.environ.get("STEPLINE_GRPC_BACKEND"),
        required="STEPLINE_GRPC_BACKEND" not in os.environ,
        help="host:port of the stepline gRPC server (env STEPLINE_GRPC_BACKEND)",
    )
    _add_http_flags(gateway)
    _add_tls_flags(gateway, client_ca=False)
    _add_backend_tls_flags(gateway)
    # The core's payload limit, so that the gateway refuses bodies the core cannot take
    # with a 413 of its own: keep it equal to the core's.
    _add_payload_flag(gateway)


def _add_backend_tls_flags(gateway: argparse.ArgumentParser) -> None:
    gateway.add_argument(
        "--grpc-backend-tls",
        action="store_true",
        default=_env("GRPC_BACKEND_TLS", "") in ("1", "true"),
        help="dial the core over TLS, trusting the system's CAs (implied by the flags "
        "below; env STEPLINE_GRPC_BACKEND_TLS)",
    )
    for flag, text in (
        ("ca", "CA certificates that sign the core's certificate"),
        ("cert", "the gateway's client certificate, for a core that requires one (mTLS)"),
        ("key", "the client certificate's private key"),
        ("server-name", "the name the core's certificate is checked for, if not its host"),
    ):
        env = f"GRPC_BACKEND_TLS_{flag.upper().replace('-', '_')}"
        gateway.add_argument(
            f"--grpc-backend-tls-{flag}",
            metavar="NAME" if flag == "server-name" else "PEM",
            default=_env(env, ""),
            help=f"{text} (env STEPLINE_{env})",
        )


def _backend_tls(args: argparse.Namespace) -> TLSConfig | None:
    """The gateway's TLS to the core; None for plaintext."""
    files = (args.grpc_backend_tls_ca, args.grpc_backend_tls_cert, args.grpc_backend_tls_key)
    if not (args.grpc_backend_tls or any(files) or args.grpc_backend_tls_server_name):
        return None
    ca, cert, key = (path or None for path in files)
    return TLSConfig(
        ca=ca, cert=cert, key=key, server_name=args.grpc_backend_tls_server_name or None
    )


def _config(args: argparse.Namespace) -> ServerConfig:
    auth, _ = auth_mode.resolve(args.auth, (args.grpc_address, args.http_address))
    return ServerConfig(
        auth=auth,
        metrics_auth=args.metrics_auth,
        database_url=args.database_url,
        grpc_address=args.grpc_address,
        http_address=args.http_address,
        http_default_timeout=args.http_default_timeout,
        http_header_timeout=args.http_header_timeout,
        http_body_timeout=args.http_body_timeout,
        http_max_connections=args.http_max_connections,
        lease_duration=args.lease_duration,
        max_payload_bytes=args.max_payload_bytes,
        db_pool_size=args.db_pool_size,
        db_pool_timeout=args.db_pool_timeout,
        shutdown_grace=args.shutdown_grace,
        sweep_interval=args.sweep_interval,
        poll_fallback=args.poll_fallback,
        retention_interval=args.retention_interval,
        retention_pause=args.retention_pause,
        retention_batch=args.retention_batch,
        log_level=args.log_level,
        log_format=args.log_format,
        event_loop=args.event_loop,
        reuse_port=args.reuse_port,
        require_registered=args.require_registered,
        max_crashes=args.max_crashes,
        trace_url_template=args.trace_url_template,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_client_ca=args.tls_client_ca,
    )


async def _serve(config: ServerConfig, warning: str | None) -> None:
    stop = _stop_on_signals()
    orphaned = asyncio.create_task(stop_when_supervisor_goes(stop))
    if warning is not None:
        print(f"stepline-server: {warning}", file=sys.stderr, flush=True)
    server = Server(config)
    await server.start()
    print(
        f"stepline-server: gRPC listening on {server.address}; {banner_note(config)}"
        f"database {server.store.url_for_display}",
        flush=True,
    )
    applied = ", ".join(server.migrations_applied) or "none (up to date)"
    print(f"stepline-server: migrations applied: {applied}", flush=True)
    http = None
    if config.http_address:
        try:
            backend = server.private_target or loopback_backend(config.grpc_address, server.port)
            http = rest_server(config, backend, server)
            await start_http(http, config.http_address)
        except (StartupError, ValueError):
            await server.stop(grace=0)
            raise
        print(f"stepline-server: REST listening on {http.scheme}://{http.address}", flush=True)
    await stop.wait()
    print("stepline-server: shutting down: ending long polls, draining calls", flush=True)
    if http is not None:
        server.shutting_down.set()  # waiting long polls end now, not after the REST drain
        await http.stop()  # before the gRPC server, so REST calls in flight still reach it
    await server.stop()
    orphaned.cancel()
    print("stepline-server: stopped", flush=True)


async def _gateway(args: argparse.Namespace) -> None:
    stop = _stop_on_signals()
    config = ServerConfig(
        http_address=args.http_address,
        http_default_timeout=args.http_default_timeout,
        http_header_timeout=args.http_header_timeout,
        http_body_timeout=args.http_body_timeout,
        http_max_connections=args.http_max_connections,
        shutdown_grace=args.shutdown_grace,
        max_payload_bytes=args.max_payload_bytes,
        trace_url_template=args.trace_url_template,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )
    if config.tls:
        check_files(config)  # a clear error now, not a failed start of uvicorn
    backend_tls = _backend_tls(args)
    if backend_tls is not None:
        backend_tls.channel_credentials()  # the files are readable (TLSFileError if not)
    http = rest_server(config, args.grpc_backend, backend_tls=backend_tls)
    await start_http(http, config.http_address)
    print(
        f"stepline-server: REST listening on {http.scheme}://{http.address}; "
        f"gRPC backend {args.grpc_backend}{' (TLS)' if backend_tls else ''}",
        flush=True,
    )
    await stop.wait()
    print("stepline-server: shutting down: draining REST calls", flush=True)
    await http.stop()
    print("stepline-server: stopped", flush=True)


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT; this process, not uvicorn, owns the signals."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _migrate(database_url: str) -> None:
    shown, applied = await apply_migrations(database_url)
    names = ", ".join(applied) if applied else "none (up to date)"
    print(f"stepline-server: database {shown}; migrations applied: {names}")


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


async def _supervise(config: ServerConfig, processes: int, argv: Sequence[str]) -> int:
    return await Supervisor(config, processes, argv).run(_stop_on_signals())


def main(argv: Sequence[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    configure_logs(args.log_level.upper(), args.log_format)
    try:
        if args.command == "migrate":
            asyncio.run(_migrate(args.database_url))
        elif args.command == "keys":
            asyncio.run(keys_command.run(args))
        elif args.command == "gateway":
            tracing.configure_from_env("stepline-gateway")
            _run(_gateway(args), _DEFAULTS.event_loop)
        elif args.processes != 1:
            if args.processes < 1:
                raise ValueError("--processes must be at least 1")
            sys.exit(asyncio.run(_supervise(_config(args), args.processes, argv)))
        else:
            config = _config(args)
            # Before the server is built: it installs tracing interceptors only if on.
            tracing.configure_from_env("stepline-server")
            _, warning = auth_mode.resolve(args.auth, (args.grpc_address, args.http_address))
            _run(_serve(config, warning), config.event_loop)
    except (ValueError, StartupError, StoreError) as exc:
        raise SystemExit(f"stepline-server: {exc}") from None
    finally:
        tracing.shutdown()  # flush the spans still batched


if __name__ == "__main__":
    main()
