"""Server wiring: the store, both services, health and reflection on one grpc.aio server,
the maintenance loop, and a clean shutdown that ends long polls and drains calls."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.access import Access, AccessInterceptor
from services.admin_service import AdminService
from services.config import ServerConfig
from services.key_cache import KeyCache
from services.maintenance import Maintenance
from services.metrics import Metrics
from services.registry import Registry
from services.retention import Retention, RetentionSettings
from services.scheduler import Scheduler
from services.telemetry import instrument_store, server_interceptors
from services.tls import TLSSetupError, check_files, grpc_server_credentials
from services.validation import Limits
from services.worker_service import WorkerService, WorkerSettings
from services.workflow_service import WorkflowService
from stepline.v1 import (
    admin_service_pb2,
    admin_service_pb2_grpc,
    worker_service_pb2,
    worker_service_pb2_grpc,
    workflow_service_pb2,
    workflow_service_pb2_grpc,
)
from storage import Store, StoreError, create_store

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The server cannot start: the address is taken or the database unusable."""


SERVICE_NAMES = (
    workflow_service_pb2.DESCRIPTOR.services_by_name["WorkflowService"].full_name,
    worker_service_pb2.DESCRIPTOR.services_by_name["WorkerService"].full_name,
    admin_service_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
)


def max_request_bytes(config: ServerConfig) -> int:
    """The core's receive limit for one request message, also the in-process REST
    gateway's body limit (so an oversized body is a 413 there, not a 429 from gRPC)."""
    # A request may carry several payloads (output, config, context) of up to the limit.
    return max(4 * config.max_payload_bytes + 64 * 1024, 4 * 1024 * 1024)


def _logs_name_runs(config: ServerConfig) -> bool:
    """JSON lines carry each call's run (and trace); DEBUG logs each handled call."""
    return config.log_format == "json" or config.log_level.upper() == "DEBUG"


def _grpc_options(config: ServerConfig) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", max_request_bytes(config)),
        # Off, so that a port in use is an error, unless processes share it on purpose.
        ("grpc.so_reuseport", 1 if config.reuse_port else 0),
        # Long polls sit idle for up to a minute: let clients keep the connection alive.
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 5000),
    ]


class Server:
    """One stepline server. `start()`, then `stop()`; `port` is the bound gRPC port."""

    def __init__(self, config: ServerConfig, store: Store | None = None) -> None:
        self.config = config
        store = store or create_store(
            config.database_url,
            pool_size=config.db_pool_size,
            pool_timeout=config.db_pool_timeout.total_seconds(),
        )
        self.metrics = Metrics()
        store.events = self.metrics  # on the backend itself, not on a tracing wrapper
        self.store = instrument_store(store)
        self.shutting_down = asyncio.Event()
        # grpc-stubs does not describe the asyncio health servicer.
        self.health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        self.maintenance = Maintenance(
            self.store,
            config.sweep_interval,
            self._set_serving,
            (
                ("schedules", Scheduler(self.store, self.metrics, config.schedule_tick)),
                ("retention", Retention(self.store, self.metrics, _retention_settings(config))),
            ),
        )
        self.migrations_applied: list[str] = []
        self.port = 0
        self.keys = KeyCache(self.store)
        self.access = Access(self.keys, required=config.auth == "required")
        # With TLS, the in-process REST gateway dials this private Unix socket instead of
        # the TLS port (which, with mTLS, would want a client certificate of it).
        self.private_target: str | None = None
        self._private_dir: Path | None = None
        self._grpc = grpc.aio.server(
            options=_grpc_options(config),
            # The access check last: spans and log lines see the calls it refuses.
            interceptors=[
                *server_interceptors(log_run_ids=_logs_name_runs(config)),
                AccessInterceptor(self.access),
            ],
        )

    async def start(self) -> None:
        """Bind, open and migrate the database, then serve. Raises StartupError."""
        self._add_services()
        self._add_ports()
        # Startup, the pool's own tasks and the maintenance loop make no spans: they
        # have no caller, and a sweep a second would start a trace a second.
        with suppress_instrumentation():
            try:
                await self.store.start()
                self.migrations_applied = await self.store.migrate()
            except StoreError as exc:
                await self.store.close()
                self._remove_private_dir()
                raise StartupError(f"database {self.store.url_for_display}: {exc}") from exc
        await self._grpc.start()
        await self._set_serving(True)
        with suppress_instrumentation():
            self.maintenance.start()

    def _add_ports(self) -> None:
        if not self.config.tls:
            self.port = self._bind(self._grpc.add_insecure_port, self.config.grpc_address)
            return
        try:
            check_files(self.config)
        except TLSSetupError as exc:
            raise StartupError(str(exc)) from None
        credentials = grpc_server_credentials(self.config)
        self.port = self._bind(
            lambda address: self._grpc.add_secure_port(address, credentials),
            self.config.grpc_address,
        )
        if self.config.http_address:
            # A directory of its own, mode 0700: only this user reaches the socket.
            self._private_dir = Path(tempfile.mkdtemp(prefix="stepline-"))
            self.private_target = f"unix:{self._private_dir / 'grpc.sock'}"
            self._bind(self._grpc.add_insecure_port, self.private_target)

    @staticmethod
    def _bind(add_port: Callable[[str], int], address: str) -> int:
        try:
            return add_port(address)
        except RuntimeError:
            raise StartupError(f"cannot listen on {address}") from None

    async def _set_serving(self, serving: bool) -> None:
        """Health for every service: NOT_SERVING while the database does not answer.
        (After a graceful shutdown began, the health servicer ignores this.)"""
        status = health_pb2.HealthCheckResponse
        for name in ("", *SERVICE_NAMES):
            await self.health.set(name, status.SERVING if serving else status.NOT_SERVING)

    def _add_services(self) -> None:
        limits = Limits(max_payload_bytes=self.config.max_payload_bytes)
        settings = WorkerSettings(
            lease_duration=self.config.lease_duration,
            poll_fallback=self.config.poll_fallback,
            limits=limits,
            max_crashes=self.config.max_crashes,
        )
        registry = Registry(self.store, self.config.lease_duration, self.config.require_registered)
        workflow_service_pb2_grpc.add_WorkflowServiceServicer_to_server(  # type: ignore[no-untyped-call]
            WorkflowService(self.store, limits, self.metrics, registry), self._grpc
        )
        worker_service_pb2_grpc.add_WorkerServiceServicer_to_server(  # type: ignore[no-untyped-call]
            WorkerService(self.store, settings, self.shutting_down, self.metrics, registry),
            self._grpc,
        )
        admin_service_pb2_grpc.add_AdminServiceServicer_to_server(  # type: ignore[no-untyped-call]
            AdminService(self.store, self.keys), self._grpc
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._grpc)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), self._grpc
        )

    @property
    def address(self) -> str:
        host = self.config.grpc_address.rsplit(":", 1)[0]
        return f"{host}:{self.port}"

    async def stop(self, grace: float | None = None) -> None:
        """Stop accepting calls, end waiting long polls at once, drain the rest."""
        grace = self.config.shutdown_grace.total_seconds() if grace is None else grace
        await self.health.enter_graceful_shutdown()
        self.shutting_down.set()
        await self._grpc.stop(grace)
        await self.maintenance.stop()
        await self.keys.close()
        await self.store.close()
        self._remove_private_dir()

    def _remove_private_dir(self) -> None:
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None


def _retention_settings(config: ServerConfig) -> RetentionSettings:
    return RetentionSettings(
        interval=config.retention_interval,
        batch=config.retention_batch,
        pause=config.retention_pause,
    )
