"""Throwaway PostgreSQL databases for tests: one server, a fresh database per use.

Synchronous on purpose: fixtures of any kind (sync or async, any scope) can call them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN_URL_ENV = "STEPLINE_TEST_POSTGRES_URL"
DATABASE_PREFIX = "stepline_test_"
CONNECT_TIMEOUT_SECONDS = 3


def admin_url() -> str:
    """The admin connection (database `postgres`), from STEPLINE_TEST_POSTGRES_URL if set."""
    return os.environ.get(ADMIN_URL_ENV) or DEFAULT_ADMIN_URL


def unavailable_reason(url: str) -> str | None:
    """Why the server at `url` cannot be used, or None when it answers a query."""
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {str(exc).strip() or 'no detail'}"
    return None


def database_url(url: str, database: str) -> str:
    """`url` pointed at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def create_database(admin: str) -> str:
    """Create `stepline_test_<random hex>` and return its URL."""
    name = f"{DATABASE_PREFIX}{secrets.token_hex(6)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(admin, name)


def drop_database(admin: str, url: str) -> None:
    """Drop a database that `create_database` made, closing its sessions first."""
    name = database_name(url)
    if not name.startswith(DATABASE_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not made by create_database")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextlib.contextmanager
def fresh_database(admin: str) -> Iterator[str]:
    """A database of the caller's own (`create_database`), dropped when the block ends."""
    url = create_database(admin)
    try:
        yield url
    finally:
        drop_database(admin, url)
