"""The REST gateway inside `stepline-server serve`: it reaches this process's own gRPC
port over a real loopback channel, exactly as a gateway deployed on its own would.

This is the one module of services/ that imports the gateway (tests/test_architecture.py
holds it to that): the server hosts the gateway's app, but never calls into it."""

from __future__ import annotations

from opentelemetry.instrumentation.utils import suppress_instrumentation

from gateway.app import MetricsSource, create_app
from gateway.errors import GatewayError
from gateway.serve import HttpServer
from services.access import denied
from services.config import ServerConfig
from services.errors import api_error
from services.server import Server, StartupError, max_request_bytes
from stepline.tls import TLSConfig
from storage.access import ANY_NAMESPACE

_ANY_V4 = ("0.0.0.0", "")
_ANY_V6 = ("[::]", "::")


def loopback_backend(grpc_address: str, port: int) -> str:
    """Where this process's gRPC server can be dialled: a wildcard host means loopback."""
    host = grpc_address.rsplit(":", 1)[0]
    if host in _ANY_V4:
        host = "127.0.0.1"
    elif host in _ANY_V6:
        host = "[::1]"
    return f"{host}:{port}"


def rest_server(
    config: ServerConfig,
    backend: str,
    server: Server | None = None,
    backend_tls: TLSConfig | None = None,
) -> HttpServer:
    """The gateway on `config.http_address`, forwarding to `backend`. Its body limit is
    the core's receive limit for `config` (a standalone gateway takes the core's
    --max-payload-bytes for it). With the in-process `server`, it serves GET /metrics."""
    app = create_app(
        backend,
        default_timeout=default_timeout(config),
        max_body_bytes=max_request_bytes(config),
        metrics=None if server is None else metrics_source(server),
        trace_url_template=config.trace_url_template,
        backend_tls=backend_tls,
    )
    return HttpServer(
        app,
        config.http_address,
        shutdown_grace=config.shutdown_grace.total_seconds(),
        reuse_port=config.reuse_port,
        tls_cert=config.tls_cert,
        tls_key=config.tls_key,
    )


async def start_http(http: HttpServer, address: str) -> None:
    """Start serving; a port that cannot be bound stops start-up with a clear error."""
    try:
        await http.start()
    except OSError:
        raise StartupError(f"cannot listen on {address}") from None


def metrics_source(server: Server) -> MetricsSource:
    """The server's metrics, queue depth read from its store at each scrape (on the event
    loop the gRPC server runs on)."""

    async def render(authorization: str | None) -> bytes:
        # A scrape is no caller's work: no spans (psycopg's would each start a trace).
        with suppress_instrumentation():
            if server.config.metrics_auth and server.access.required:
                await _operator_only(server, authorization)
            return await server.metrics.render(server.store)

    return render


async def _operator_only(server: Server, authorization: str | None) -> None:
    """--metrics-auth: the metrics span every namespace, so a scrape needs an operator key."""
    metadata = [] if authorization is None else [("authorization", authorization)]
    try:
        key = await server.access.authenticate(metadata)
        if key.namespace_id != ANY_NAMESPACE:
            raise denied("/stepline.v1.Metrics/Scrape", None)
    except Exception as exc:
        error = api_error(exc, "GET /metrics")
        raise GatewayError(error.code, error.reason_name, error.message) from None


def default_timeout(config: ServerConfig) -> float | None:
    """The deadline of a REST call without Grpc-Timeout, in seconds; None for none."""
    seconds = config.http_default_timeout.total_seconds()
    return seconds if seconds > 0 else None
