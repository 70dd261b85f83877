"""Who may call what: each RPC's `required_permission` (a proto method option, declared
next to the RPC in api/), the permissions each role grants, and the namespace a request
names. The access interceptor (services/access.py) enforces them; there is no check in
any handler.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message

from stepline.v1 import access_pb2, admin_service_pb2, worker_service_pb2, workflow_service_pb2
from storage.access import ANY_NAMESPACE, Role

Permission = access_pb2.Permission

# The services the server serves: every RPC of each declares its permission.
SERVICES: tuple[ServiceDescriptor, ...] = (
    workflow_service_pb2.DESCRIPTOR.services_by_name["WorkflowService"],
    worker_service_pb2.DESCRIPTOR.services_by_name["WorkerService"],
    admin_service_pb2.DESCRIPTOR.services_by_name["AdminService"],
)

GRANTS: dict[Role, frozenset[int]] = {
    Role.READER: frozenset({access_pb2.PERMISSION_READ}),
    Role.CLIENT: frozenset({access_pb2.PERMISSION_READ, access_pb2.PERMISSION_WRITE}),
    Role.WORKER: frozenset({access_pb2.PERMISSION_WORK}),
    Role.ADMIN: frozenset(
        {
            access_pb2.PERMISSION_READ,
            access_pb2.PERMISSION_WRITE,
            access_pb2.PERMISSION_WORK,
            access_pb2.PERMISSION_ADMIN,
        }
    ),
}

# Key calls may name "*", the namespace of operator keys; no other call may.
_OPERATOR_KEY_CALLS = frozenset(
    f"/stepline.v1.AdminService/{name}" for name in ("CreateApiKey", "ListApiKeys", "RevokeApiKey")
)


def declared(service: ServiceDescriptor) -> dict[str, int]:
    """Each method's path ("/stepline.v1.Service/Method") and its declared permission
    (PERMISSION_UNSPECIFIED when it declares none)."""
    return {
        f"/{service.full_name}/{method.name}": method.GetOptions().Extensions[
            access_pb2.required_permission  # type: ignore[index]
        ]
        for method in service.methods
    }


def method_permissions(services: Iterable[ServiceDescriptor] = SERVICES) -> dict[str, int]:
    """The permission table of the served services. Raises ValueError for an RPC without
    one, so that a server never starts with an RPC nobody may (or everybody may) call."""
    table: dict[str, int] = {}
    for service in services:
        table.update(declared(service))
    missing = sorted(path for path, permission in table.items() if not permission)
    if missing:
        raise ValueError(f"RPCs without a required_permission: {', '.join(missing)}")
    return table


def allows(role: Role, key_namespace: str, permission: int, namespace: str | None) -> bool:
    """Whether a key of `role` in `key_namespace` may make a call that needs `permission`
    in `namespace` (None: a call that names no namespace)."""
    if permission == access_pb2.PERMISSION_OPERATOR:
        return key_namespace == ANY_NAMESPACE and role is Role.ADMIN
    if key_namespace != ANY_NAMESPACE and key_namespace != namespace:
        return False
    return permission in GRANTS[role]


def namespace_of(request: Message) -> str | None:
    """The namespace a request names: its namespace_id, its lease's (worker calls) or its
    opening's (the worker stream's first message); "" is "default". None when it names
    none."""
    fields = request.DESCRIPTOR.fields_by_name
    for holder in ("lease", "open"):
        if holder in fields:
            return getattr(request, holder).namespace_id or "default"
    if "namespace_id" in fields:
        return getattr(request, "namespace_id") or "default"  # noqa: B009
    return None


def checks_existence(permission: int) -> bool:
    """Operator calls act on namespaces themselves (create, list): they need none to exist."""
    return permission != access_pb2.PERMISSION_OPERATOR


def accepts_any_namespace(method: str) -> bool:
    """The key calls take "*", the operator keys' namespace, as an existing namespace."""
    return method in _OPERATOR_KEY_CALLS
