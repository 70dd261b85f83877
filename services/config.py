"""Server configuration: flags, each with a STEPLINE_* environment variable as default."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from storage import DEFAULT_DATABASE_URL

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)?")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> timedelta:
    """'30s', '500ms', '2m', '1h', or a number of seconds."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a duration: {text!r} (try 30s, 500ms, 2m)")
    return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]])


EVENT_LOOPS = ("uvloop", "asyncio")
AUTH_MODES = ("required", "off")
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    database_url: str = DEFAULT_DATABASE_URL
    grpc_address: str = "127.0.0.1:50051"
    # The REST gateway, in the same process; "" serves gRPC only.
    http_address: str = "127.0.0.1:8080"
    # Upstream deadline for a REST call without a Grpc-Timeout header.
    http_default_timeout: timedelta = timedelta(seconds=30)
    # A request's headers must arrive within this of its first byte, its body within
    # http_body_timeout of its headers (else 408); open connections per process are capped.
    http_header_timeout: timedelta = timedelta(seconds=10)
    http_body_timeout: timedelta = timedelta(seconds=30)
    http_max_connections: int = 1000
    lease_duration: timedelta = timedelta(seconds=30)
    max_payload_bytes: int = 1024 * 1024
    db_pool_size: int = 10
    db_pool_timeout: timedelta = timedelta(seconds=10)
    shutdown_grace: timedelta = timedelta(seconds=30)
    sweep_interval: timedelta = timedelta(seconds=1)
    # How often the maintenance loop asks whether a schedule is due, at most (it sleeps
    # less when the next fire is sooner): the bound on how late a fire starts its run.
    schedule_tick: timedelta = timedelta(milliseconds=500)
    poll_fallback: timedelta = timedelta(seconds=1)
    # Retention (services/retention.py): a pass over the namespaces with a retention every
    # retention_interval, deleting retention_batch runs per transaction with
    # retention_pause between two transactions.
    retention_interval: timedelta = timedelta(seconds=60)
    retention_batch: int = 500
    retention_pause: timedelta = timedelta(milliseconds=100)
    log_level: str = "INFO"
    # "json": one JSON object a line, with trace_id, span_id and run_id.
    log_format: str = "text"
    event_loop: str = "uvloop"
    # Bind the gRPC and REST ports with SO_REUSEPORT, so that several server processes
    # share them (set for its processes by `serve --processes N`).
    reuse_port: bool = False
    # "required": every stepline call needs an API key (services/access.py). The CLI
    # defaults to it unless both listeners are on loopback (services/auth_mode.py).
    auth: str = "off"
    # GET /metrics needs an operator key too (auth required only).
    metrics_auth: bool = False
    # StartWorkflow of a workflow no worker ever registered: NOT_FOUND (WORKFLOW_NOT_FOUND)
    # instead of a run accepted with a warning.
    require_registered: bool = False
    # A run whose lease expired this many times in a row with no step completed is FAILED
    # with WORKER_CRASHED (a poison run) instead of claimed again; 0: no limit.
    max_crashes: int = 3
    # The dashboard's "view trace" link, e.g. http://jaeger:16686/trace/{trace_id}; "" for none.
    trace_url_template: str = ""
    # PEM files: the server's certificate chain and key serve gRPC and REST over TLS;
    # with a client CA, gRPC callers must present a certificate it signed (mTLS).
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""

    def __post_init__(self) -> None:
        if self.lease_duration <= timedelta(0):
            raise ValueError("lease duration must be positive")
        if self.max_payload_bytes < 1024:
            raise ValueError("max payload bytes must be at least 1024")
        if self.max_crashes < 0:
            raise ValueError("max crashes must be 0 (no limit) or more")
        if self.http_header_timeout <= timedelta(0) or self.http_body_timeout <= timedelta(0):
            raise ValueError("HTTP header and body timeouts must be positive")
        if self.http_max_connections < 1:
            raise ValueError("HTTP max connections must be at least 1")
        if self.retention_interval <= timedelta(0) or self.retention_pause < timedelta(0):
            raise ValueError("retention interval must be positive, its pause not negative")
        if self.retention_batch < 1:
            raise ValueError("retention batch must be at least 1")
        if self.db_pool_size < 1:
            raise ValueError("database pool size must be at least 1")
        if self.log_format not in LOG_FORMATS:
            raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
        if self.auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("TLS needs both a certificate (--tls-cert) and its key (--tls-key)")
        if self.tls_client_ca and not self.tls_cert:
            raise ValueError("--tls-client-ca needs TLS: give --tls-cert and --tls-key too")
        if self.event_loop not in EVENT_LOOPS:
            raise ValueError(f"event loop must be one of {', '.join(EVENT_LOOPS)}")

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert)
