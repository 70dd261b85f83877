"""Namespaces and API keys, each call one transaction."""

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
from storage.errors import ApiKeyNotFound, NamespaceAlreadyExists, NamespaceNotFound
from storage.sqlite.codec import CODEC
from storage.sqlite.database import Tx


def namespace_create(tx: Tx, params: NamespaceCreateParams) -> Namespace:
    row = tx.row("namespace_insert", **namespace_insert_params(params, CODEC))
    if row is None:
        raise NamespaceAlreadyExists(params.namespace_id)
    return namespace_from_row(row, CODEC)


def namespace_get(tx: Tx, namespace_id: str) -> Namespace:
    row = tx.row("namespace_get", namespace_id=namespace_id)
    if row is None:
        raise NamespaceNotFound(namespace_id)
    return namespace_from_row(row, CODEC)


def namespace_list(tx: Tx, params: NamespaceListParams) -> list[Namespace]:
    rows = tx.rows("namespace_list", after=params.after, limit=params.limit)
    return [namespace_from_row(row, CODEC) for row in rows]


def namespace_update(tx: Tx, params: NamespaceUpdateParams) -> Namespace:
    row = tx.row("namespace_update", **namespace_update_params(params, CODEC))
    if row is None:
        raise NamespaceNotFound(params.namespace_id)
    return namespace_from_row(row, CODEC)


def api_key_create(tx: Tx, params: ApiKeyCreateParams) -> ApiKey:
    return api_key_from_row(tx.one("api_key_insert", **api_key_insert_params(params)), CODEC)


def api_key_get(tx: Tx, key_id: str) -> ApiKey | None:
    row = tx.row("api_key_get", key_id=key_id)
    return None if row is None else api_key_from_row(row, CODEC)


def api_key_list(tx: Tx, namespace_id: str) -> list[ApiKey]:
    return [api_key_from_row(r, CODEC) for r in tx.rows("api_key_list", namespace_id=namespace_id)]


def api_key_revoke(tx: Tx, params: ApiKeyRevokeParams) -> ApiKey:
    row = tx.row("api_key_revoke", namespace_id=params.namespace_id, key_id=params.key_id)
    if row is None:
        raise ApiKeyNotFound(params.namespace_id, params.key_id)
    return api_key_from_row(row, CODEC)


def api_key_touch(tx: Tx, key_ids: Sequence[str]) -> None:
    tx.execute("api_key_touch", key_ids=CODEC.list_param(key_ids))
