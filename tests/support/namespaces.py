"""Namespaces for tests: a namespace must exist before a call names it.

Tests isolate themselves with a namespace of their own (the `ns` fixtures). Each such
namespace is created on every in-process server running, and on every server started
later in the same test (`start_api` calls `on_server_started`), through the server's
own store.
"""

from __future__ import annotations

import secrets
from typing import Any

import grpc

from stepline.v1 import admin_service_pb2, admin_service_pb2_grpc
from storage import NamespaceAlreadyExists
from storage.access import NamespaceCreateParams

_RUNNING: list[Any] = []  # services.server.Server, started by tests' start_api
_CURRENT: set[str] = set()  # the namespaces of the test running now


async def _create(server: Any, names: set[str]) -> bool:
    """Create `names` in the server's database; False when the server is stopped."""
    for name in names:
        try:
            await server.store.namespace_create(NamespaceCreateParams(name))
        except NamespaceAlreadyExists:
            pass
        except Exception:  # a server the test stopped itself: forget it
            return False
    return True


async def new_namespace(prefix: str) -> str:
    """A fresh namespace, created on every running in-process server."""
    name = f"{prefix}-{secrets.token_hex(6)}"
    _CURRENT.add(name)
    for server in list(_RUNNING):
        if not await _create(server, {name}):
            _RUNNING.remove(server)
    return name


async def on_server_started(server: Any) -> None:
    _RUNNING.append(server)
    await _create(server, set(_CURRENT))


def on_server_stopped(server: Any) -> None:
    if server in _RUNNING:
        _RUNNING.remove(server)


def new_test() -> None:
    _CURRENT.clear()


def create_through(address: str, name: str) -> str:
    """Create `name` on the server at `address` (a server process, auth off) through
    AdminService; an existing namespace is fine."""
    with grpc.insecure_channel(address) as channel:
        admin = admin_service_pb2_grpc.AdminServiceStub(channel)  # type: ignore[no-untyped-call]
        try:
            admin.CreateNamespace(admin_service_pb2.CreateNamespaceRequest(namespace_id=name))
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
    return name
