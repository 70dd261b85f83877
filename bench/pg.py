"""A throwaway PostgreSQL database per benchmark run: `stepline_bench_<random hex>`."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN_URL_ENV = "STEPLINE_BENCH_POSTGRES_URL"
DATABASE_PREFIX = "stepline_bench_"


def default_admin_url() -> str:
    return os.environ.get(ADMIN_URL_ENV) or DEFAULT_ADMIN_URL


def mask_password(text: str) -> str:
    """`text` with the password of a URL replaced by ***, for printing."""
    parts = urlsplit(text)
    if not parts.scheme or parts.password is None:
        return text
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def with_database(url: str, database: str) -> str:
    """`url` pointed at another database on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@contextlib.asynccontextmanager
async def throwaway_database(admin_url: str) -> AsyncIterator[str]:
    """Create a fresh database, yield its URL, and drop it (closing its sessions) at the end."""
    name = f"{DATABASE_PREFIX}{secrets.token_hex(6)}"
    await _admin(admin_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(admin_url, name)
    finally:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        await _admin(admin_url, drop.format(sql.Identifier(name)))


_SETTINGS = ("server_version", "fsync", "synchronous_commit", "wal_sync_method")


async def describe(url: str) -> tuple[str, str]:
    """("PostgreSQL 15.2", "fsync=on, synchronous_commit=on, ...") for the report."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(_SETTINGS),)
        )
        settings = {str(name): str(value) for name, value in await cursor.fetchall()}
    version = settings.pop("server_version", "?").split()[0]
    return f"PostgreSQL {version}", ", ".join(f"{k}={v}" for k, v in sorted(settings.items()))


async def _admin(admin_url: str, statement: sql.Composed) -> None:
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as conn:
        await conn.execute(statement)
