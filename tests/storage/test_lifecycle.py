"""start, ping and close; an unreachable database is StorageUnavailable, never a driver error."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import StorageUnavailable, Store, create_store
from tests.support import postgres


async def test_ping__answers_when_the_database_is_up(store: Store) -> None:
    await store.ping()


@pytest.mark.parametrize(
    "backend_name",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
async def test_lifecycle__unreachable_database_raises_storage_unavailable(
    request: pytest.FixtureRequest, tmp_path: Path, backend_name: str
) -> None:
    if backend_name == "postgres":
        admin: str = request.getfixturevalue("postgres_admin_url")
        url = postgres.database_url(admin, f"{postgres.DATABASE_PREFIX}never_created")
    else:
        # Below a regular file: no directory can be made there, not even by root.
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        url = f"sqlite:///{blocker / 'sub' / 'stepline.db'}"
    store = create_store(url, pool_timeout=0.5)
    try:
        with pytest.raises(StorageUnavailable):
            await start_and_ping(store)
    finally:
        await store.close()


async def start_and_ping(store: Store) -> None:
    await store.start()
    await store.ping()
