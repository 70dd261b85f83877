"""A benchmark's database made ready: migrated, with the benchmark's namespace in it."""

from __future__ import annotations

import contextlib

from storage import NamespaceAlreadyExists, create_store
from storage.access import NamespaceCreateParams


async def migrate_with_namespace(url: str, namespace: str) -> None:
    """Apply the migrations and create `namespace` (an existing one is fine)."""
    store = create_store(url)
    await store.start()
    try:
        await store.migrate()
        with contextlib.suppress(NamespaceAlreadyExists):
            await store.namespace_create(NamespaceCreateParams(namespace))
    finally:
        await store.close()
