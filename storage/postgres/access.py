"""Namespaces and API keys, each call one statement."""

from __future__ import annotations

from collections.abc import Sequence

from storage.access import (
    ApiKey,
    ApiKeyCreateParams,
    ApiKeyRevokeParams,
    Namespace,
    NamespaceCreateParams,
    NamespaceListParams,
    NamespaceUpdateParams,
    api_key_from_row,
    api_key_insert_params,
    namespace_from_row,
    namespace_insert_params,
    namespace_update_params,
)
from storage.errors import ApiKeyNotFound, NamespaceAlreadyExists, NamespaceNotFound, StoreError
from storage.postgres.codec import CODEC
from storage.postgres.database import Database


async def namespace_create(db: Database, params: NamespaceCreateParams) -> Namespace:
    row = await db.fetch_one("namespace_insert", namespace_insert_params(params, CODEC))
    if row is None:
        raise NamespaceAlreadyExists(params.namespace_id)
    return namespace_from_row(row, CODEC)


async def namespace_get(db: Database, namespace_id: str) -> Namespace:
    row = await db.fetch_one("namespace_get", {"namespace_id": namespace_id})
    if row is None:
        raise NamespaceNotFound(namespace_id)
    return namespace_from_row(row, CODEC)


async def namespace_list(db: Database, params: NamespaceListParams) -> list[Namespace]:
    rows = await db.fetch("namespace_list", {"after": params.after, "limit": params.limit})
    return [namespace_from_row(row, CODEC) for row in rows]


async def namespace_update(db: Database, params: NamespaceUpdateParams) -> Namespace:
    row = await db.fetch_one("namespace_update", namespace_update_params(params, CODEC))
    if row is None:
        raise NamespaceNotFound(params.namespace_id)
    return namespace_from_row(row, CODEC)


async def api_key_create(db: Database, params: ApiKeyCreateParams) -> ApiKey:
    row = await db.fetch_one("api_key_insert", api_key_insert_params(params))
    if row is None:  # pragma: no cover - an INSERT ... RETURNING returns its row
        raise StoreError("the API key insert returned no row")
    return api_key_from_row(row, CODEC)


async def api_key_get(db: Database, key_id: str) -> ApiKey | None:
    row = await db.fetch_one("api_key_get", {"key_id": key_id})
    return None if row is None else api_key_from_row(row, CODEC)


async def api_key_list(db: Database, namespace_id: str) -> list[ApiKey]:
    rows = await db.fetch("api_key_list", {"namespace_id": namespace_id})
    return [api_key_from_row(row, CODEC) for row in rows]


async def api_key_revoke(db: Database, params: ApiKeyRevokeParams) -> ApiKey:
    values = {"namespace_id": params.namespace_id, "key_id": params.key_id}
    row = await db.fetch_one("api_key_revoke", values)
    if row is None:
        raise ApiKeyNotFound(params.namespace_id, params.key_id)
    return api_key_from_row(row, CODEC)


async def api_key_touch(db: Database, key_ids: Sequence[str]) -> None:
    await db.fetch("api_key_touch", {"key_ids": CODEC.list_param(key_ids)})
