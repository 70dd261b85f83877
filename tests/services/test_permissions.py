"""Every RPC of every stepline service declares its required_permission: a walk over
the whole contract (every service in stepline/v1, present and future) fails for an RPC
without one, and the server refuses to build its table for such a service."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from google.protobuf.descriptor import ServiceDescriptor

import stepline.v1
from services import permissions
from stepline.v1 import access_pb2
from storage.access import ANY_NAMESPACE, Role
from tests.gateway import protos


def _every_service() -> list[ServiceDescriptor]:
    found = []
    for module in pkgutil.iter_modules(stepline.v1.__path__):
        if module.name.endswith("_pb2"):
            loaded = importlib.import_module(f"stepline.v1.{module.name}")
            found.extend(loaded.DESCRIPTOR.services_by_name.values())
    return found


def test_permissions__every_rpc_of_every_service_declares_one() -> None:
    services = _every_service()
    assert {s.name for s in services} >= {"WorkflowService", "WorkerService", "AdminService"}
    missing = [
        f"{service.full_name}.{path.rsplit('/', 1)[-1]}"
        for service in services
        for path, permission in permissions.declared(service).items()
        if permission == access_pb2.PERMISSION_UNSPECIFIED
    ]
    assert missing == [], f"declare option (required_permission) on: {missing}"


def test_permissions__the_server_checks_every_service_of_the_contract() -> None:
    assert {s.full_name for s in permissions.SERVICES} == {s.full_name for s in _every_service()}


def test_permissions__a_service_without_declarations_is_refused() -> None:
    with pytest.raises(ValueError, match="without a required_permission"):
        permissions.method_permissions([protos.service("Messaging")])


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        (Role.READER, access_pb2.PERMISSION_READ, True),
        (Role.READER, access_pb2.PERMISSION_WRITE, False),
        (Role.CLIENT, access_pb2.PERMISSION_WRITE, True),
        (Role.CLIENT, access_pb2.PERMISSION_WORK, False),
        (Role.WORKER, access_pb2.PERMISSION_WORK, True),
        (Role.WORKER, access_pb2.PERMISSION_READ, False),
        (Role.ADMIN, access_pb2.PERMISSION_ADMIN, True),
    ],
)
def test_permissions__roles_grant_in_their_own_namespace_only(
    role: Role, permission: int, allowed: bool
) -> None:
    assert permissions.allows(role, "a", permission, "a") is allowed
    assert permissions.allows(role, "a", permission, "b") is False
    assert permissions.allows(role, ANY_NAMESPACE, permission, "b") is allowed


def test_permissions__only_an_operator_admin_key_has_the_operator_permission() -> None:
    operator = access_pb2.PERMISSION_OPERATOR
    assert permissions.allows(Role.ADMIN, ANY_NAMESPACE, operator, None)
    assert not permissions.allows(Role.READER, ANY_NAMESPACE, operator, None)
    assert not permissions.allows(Role.ADMIN, "default", operator, "default")
