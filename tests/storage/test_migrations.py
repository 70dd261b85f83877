"""migrate: numbered migrations, each applied once and recorded."""

from __future__ import annotations

import asyncio

from storage.migrations import load_migrations
from tests.storage.conftest import open_store
from tests.storage.rawsql import Backend, query


def file_names(backend_name: str) -> list[str]:
    return [f"{m.version:04d}_{m.name}" for m in load_migrations(f"storage.{backend_name}")]


async def test_migrate__fresh_database_applies_every_migration_in_order(
    empty_database: tuple[str, str],
) -> None:
    name, url = empty_database
    store = await open_store(url)
    try:
        applied = await store.migrate()
    finally:
        await store.close()
    assert applied == file_names(name)
    assert applied and applied == sorted(applied)


async def test_migrate__second_run_applies_nothing(empty_database: tuple[str, str]) -> None:
    _, url = empty_database
    store = await open_store(url)
    try:
        assert await store.migrate()
        assert await store.migrate() == []
    finally:
        await store.close()


async def test_migrate__migrations_table_lists_every_migration_file(
    empty_database: tuple[str, str],
) -> None:
    name, url = empty_database
    store = await open_store(url)
    try:
        await store.migrate()
    finally:
        await store.close()
    rows = await query(name, url, "SELECT version, name FROM stepline_schema_migrations")
    expected = [(m.version, m.name) for m in load_migrations(f"storage.{name}")]
    assert sorted(rows) == expected


async def test_migrate__concurrent_migrations_apply_each_once(
    empty_database: tuple[str, str],
) -> None:
    name, url = empty_database
    stores = [await open_store(url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(s.migrate() for s in stores))
    finally:
        for s in stores:
            await s.close()
    assert sorted(n for applied in results for n in applied) == file_names(name)


async def test_migrate__session_store_is_up_to_date(backend: Backend) -> None:
    assert await backend.store.migrate() == []
