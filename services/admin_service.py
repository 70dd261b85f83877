"""AdminService: namespaces and their API keys. Who may call it is declared in the
contract (required_permission) and enforced by the access interceptor."""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from typing import Any

import grpc

from services import api_keys, convert
from services import validation as v
from services.errors import ApiError, invalid, rpc
from services.key_cache import KeyCache
from stepline.v1 import access_pb2
from stepline.v1 import admin_service_pb2 as pb
from stepline.v1 import admin_service_pb2_grpc as pb_grpc
from storage import Store
from storage.access import (
    ANY_NAMESPACE,
    ApiKey,
    ApiKeyRevokeParams,
    Namespace,
    NamespaceCreateParams,
    NamespaceListParams,
    NamespaceUpdateParams,
    Role,
)

Context = grpc.aio.ServicerContext[Any, Any]

ROLES = {
    access_pb2.ROLE_READER: Role.READER,
    access_pb2.ROLE_CLIENT: Role.CLIENT,
    access_pb2.ROLE_WORKER: Role.WORKER,
    access_pb2.ROLE_ADMIN: Role.ADMIN,
}
_ROLE_VALUES = {role: value for value, role in ROLES.items()}


def namespace_to_proto(namespace: Namespace) -> pb.Namespace:
    message = pb.Namespace(
        namespace_id=namespace.namespace_id,
        description=namespace.description,
        created_at=convert.timestamp(namespace.created_at),
    )
    message.retention.FromTimedelta(namespace.retention)
    return message


def api_key_to_proto(key: ApiKey) -> pb.ApiKey:
    message = pb.ApiKey(
        key_id=key.key_id,
        namespace_id=key.namespace_id,
        name=key.name,
        role=_ROLE_VALUES[key.role],
        created_at=convert.timestamp(key.created_at),
    )
    if key.last_used_at is not None:
        message.last_used_at.CopyFrom(convert.timestamp(key.last_used_at))
    if key.revoked_at is not None:
        message.revoked_at.CopyFrom(convert.timestamp(key.revoked_at))
    return message


def key_namespace(value: str) -> str:
    """A key's namespace: a namespace ID, or "*" for an operator key."""
    return ANY_NAMESPACE if value == ANY_NAMESPACE else v.namespace(value)


def role(value: int) -> Role:
    if value not in ROLES:
        raise invalid("role", "must be ROLE_READER, ROLE_CLIENT, ROLE_WORKER or ROLE_ADMIN")
    return ROLES[value]  # type: ignore[index]


def retention(message: Any) -> Any:
    found = v.duration(message, "retention")
    if found is not None and found.total_seconds() < 0:
        raise invalid("retention", "must not be negative")
    return found


def _page_after(token: str) -> str:
    """The namespace a ListNamespaces page token names (the last of the page before)."""
    if not token:
        return ""
    try:
        after = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
        if after and v.namespace(after, "page_token") == after:
            return after
    except (binascii.Error, UnicodeDecodeError, ApiError):
        pass
    raise invalid("page_token", "is not a page token of ListNamespaces")


class AdminService(pb_grpc.AdminServiceServicer):
    def __init__(self, store: Store, cache: KeyCache) -> None:
        self._store = store
        self._cache = cache

    @rpc
    async def CreateNamespace(
        self, request: pb.CreateNamespaceRequest, context: Context
    ) -> pb.CreateNamespaceResponse:
        if not request.namespace_id:
            raise invalid("namespace_id", "is required")
        params = NamespaceCreateParams(
            namespace_id=v.namespace(request.namespace_id),
            description=v.text(request.description, "description", 1024),
            retention=retention(request) or timedelta(0),
        )
        created = await self._store.namespace_create(params)
        self._cache.namespace_created(created.namespace_id)
        return pb.CreateNamespaceResponse(namespace=namespace_to_proto(created))

    @rpc
    async def GetNamespace(
        self, request: pb.GetNamespaceRequest, context: Context
    ) -> pb.GetNamespaceResponse:
        found = await self._store.namespace_get(v.namespace(request.namespace_id))
        return pb.GetNamespaceResponse(namespace=namespace_to_proto(found))

    @rpc
    async def ListNamespaces(
        self, request: pb.ListNamespacesRequest, context: Context
    ) -> pb.ListNamespacesResponse:
        limit = v.page_size(request.page_size)
        after = _page_after(request.page_token)
        found = await self._store.namespace_list(NamespaceListParams(after, limit + 1))
        page, has_more = found[:limit], len(found) > limit
        token = ""
        if has_more:
            token = base64.urlsafe_b64encode(page[-1].namespace_id.encode()).decode()
        return pb.ListNamespacesResponse(
            namespaces=[namespace_to_proto(n) for n in page],
            next_page_token=token,
            has_more=has_more,
        )

    @rpc
    async def UpdateNamespace(
        self, request: pb.UpdateNamespaceRequest, context: Context
    ) -> pb.UpdateNamespaceResponse:
        description = None
        if request.HasField("description"):
            description = v.text(request.description, "description", 1024)
        params = NamespaceUpdateParams(
            namespace_id=v.namespace(request.namespace_id),
            description=description,
            retention=retention(request),
        )
        updated = await self._store.namespace_update(params)
        return pb.UpdateNamespaceResponse(namespace=namespace_to_proto(updated))

    @rpc
    async def CreateApiKey(
        self, request: pb.CreateApiKeyRequest, context: Context
    ) -> pb.CreateApiKeyResponse:
        created, secret = await api_keys.issue(
            self._store,
            key_namespace(request.namespace_id),
            v.name(request.name, "name"),
            role(request.role),
        )
        return pb.CreateApiKeyResponse(api_key=api_key_to_proto(created), secret=secret)

    @rpc
    async def ListApiKeys(
        self, request: pb.ListApiKeysRequest, context: Context
    ) -> pb.ListApiKeysResponse:
        found = await self._store.api_key_list(key_namespace(request.namespace_id))
        return pb.ListApiKeysResponse(api_keys=[api_key_to_proto(k) for k in found])

    @rpc
    async def RevokeApiKey(
        self, request: pb.RevokeApiKeyRequest, context: Context
    ) -> pb.RevokeApiKeyResponse:
        params = ApiKeyRevokeParams(
            namespace_id=key_namespace(request.namespace_id),
            key_id=v.name(request.key_id, "key_id"),
        )
        revoked = await self._store.api_key_revoke(params)
        return pb.RevokeApiKeyResponse(api_key=api_key_to_proto(revoked))
