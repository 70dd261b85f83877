"""The conformance suite runs every test once per backend.

One migrated store per backend per session; tests isolate themselves with a random
namespace and task queue of their own (claims are scoped by both). Only the deadline
sweep is global: its tests assert on their own runs alone, or count on a private
database (`private_backend`).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from storage import Store, create_store
from storage.events import IGNORED
from tests.conftest import sqlite_url_for
from tests.storage.rawsql import Backend
from tests.storage.test_events import Recorder
from tests.support import postgres

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


async def open_store(url: str) -> Store:
    store = create_store(url)
    await store.start()
    return store


@pytest_asyncio.fixture(scope="session", params=BACKENDS)
async def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Backend]:
    name: str = request.param
    if name == "postgres":
        url: str = request.getfixturevalue("postgres_url")
    else:
        url = sqlite_url_for(tmp_path_factory.mktemp("sqlite") / "stepline.db")
    store = await open_store(url)
    try:
        await store.migrate()
        yield Backend(name=name, url=url, store=store)
    finally:
        await store.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.store


@pytest.fixture
def recorder(store: Store, ns: str) -> Iterator[Recorder]:
    """The store's events of this test's namespace, while the test runs."""
    recorder = Recorder(ns)
    store.events = recorder
    try:
        yield recorder
    finally:
        store.events = IGNORED


@pytest.fixture
def ns() -> str:
    """A namespace of this test's own."""
    return f"ns-{secrets.token_hex(6)}"


@pytest.fixture
def queue() -> str:
    """A task queue of this test's own."""
    return f"queue-{secrets.token_hex(6)}"


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(backend name, URL) of a database nothing has touched yet, for migration tests."""
    name: str = request.param
    if name == "sqlite":
        yield name, request.getfixturevalue("sqlite_url")
        return
    admin: str = request.getfixturevalue("postgres_admin_url")
    url = postgres.create_database(admin)
    try:
        yield name, url
    finally:
        postgres.drop_database(admin, url)


@pytest_asyncio.fixture
async def private_backend(empty_database: tuple[str, str]) -> AsyncIterator[Backend]:
    """A migrated store on a database of this test's own, for the global deadline sweep:
    no other test (and no server another test package started) touches its runs."""
    name, url = empty_database
    store = await open_store(url)
    try:
        await store.migrate()
        yield Backend(name=name, url=url, store=store)
    finally:
        await store.close()
