"""Namespaces and API keys, the same on both backends: `default` after migration, create
once, update what is given, list in ID order; a key's hash (never a secret) stored,
found by its ID, revoked once, touched."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from storage import ApiKeyNotFound, NamespaceAlreadyExists, NamespaceNotFound, Store
from storage.access import (
    ApiKeyCreateParams,
    ApiKeyRevokeParams,
    NamespaceCreateParams,
    NamespaceListParams,
    NamespaceUpdateParams,
    Role,
)


async def test_namespace__default_exists_after_migration(store: Store) -> None:
    found = await store.namespace_get("default")
    assert found.retention == timedelta(0)


async def test_namespace__created_once_updated_and_listed(store: Store, ns: str) -> None:
    created = await store.namespace_create(NamespaceCreateParams(ns, "billing", timedelta(days=30)))
    assert (created.namespace_id, created.description) == (ns, "billing")
    assert created.retention == timedelta(days=30)
    with pytest.raises(NamespaceAlreadyExists):
        await store.namespace_create(NamespaceCreateParams(ns))
    updated = await store.namespace_update(NamespaceUpdateParams(ns, retention=timedelta(0)))
    assert (updated.description, updated.retention) == ("billing", timedelta(0))
    assert updated.created_at == created.created_at
    page = await store.namespace_list(NamespaceListParams(after=ns[:-1], limit=1000))
    assert ns in [n.namespace_id for n in page]
    assert [n.namespace_id for n in page] == sorted(n.namespace_id for n in page)
    with pytest.raises(NamespaceNotFound):
        await store.namespace_update(NamespaceUpdateParams(f"{ns}-none", description="x"))
    with pytest.raises(NamespaceNotFound):
        await store.namespace_get(f"{ns}-none")


async def test_api_key__stored_found_touched_and_revoked_once(store: Store, ns: str) -> None:
    key_id, digest = secrets.token_hex(8), secrets.token_bytes(32)
    created = await store.api_key_create(ApiKeyCreateParams(key_id, ns, "ci", Role.WORKER, digest))
    assert (created.secret_sha256, created.role, created.last_used_at) == (
        digest,
        Role.WORKER,
        None,
    )
    assert await store.api_key_get(key_id) == created
    assert await store.api_key_get(secrets.token_hex(8)) is None
    await store.api_key_touch([key_id])
    touched = await store.api_key_get(key_id)
    assert touched is not None and touched.last_used_at is not None
    revoked = await store.api_key_revoke(ApiKeyRevokeParams(ns, key_id))
    again = await store.api_key_revoke(ApiKeyRevokeParams(ns, key_id))
    assert revoked.revoked_at is not None and again.revoked_at == revoked.revoked_at
    assert [k.key_id for k in await store.api_key_list(ns)] == [key_id]
    with pytest.raises(ApiKeyNotFound):
        await store.api_key_revoke(ApiKeyRevokeParams(f"{ns}-other", key_id))
