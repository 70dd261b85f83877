"""Where a benchmark's server keeps its data: a throwaway PostgreSQL database or a
temporary SQLite file, with that database's raw commit rate measured beside it."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bench import pg
from bench.commit_rate import CommitRate, postgres_commit_rate, sqlite_commit_rate
from services.config import ServerConfig

BACKENDS = ("sqlite", "postgres")
# The raw commit rate's concurrent figure uses as many connections as the server's pool.
SERVER_POOL_SIZE = ServerConfig().db_pool_size
SQLITE_DURABILITY = "journal_mode=WAL, synchronous=FULL (as the store sets them)"


@dataclass(frozen=True, slots=True)
class Target:
    backend: str
    database_url: str
    version: str
    durability: str
    scratch: Path
    """A directory for side files, e.g. the SQLite commit-rate database."""

    async def commit_rate(self, seconds: float) -> CommitRate:
        if self.backend == "postgres":
            return await postgres_commit_rate(self.database_url, seconds, SERVER_POOL_SIZE)
        return await sqlite_commit_rate(self.scratch / "commit-rate.db", seconds)


@contextlib.asynccontextmanager
async def open_target(backend: str, postgres_admin_url: str) -> AsyncIterator[Target]:
    """A fresh, empty database for `backend`, removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="stepline-bench-") as scratch:
        if backend == "postgres":
            async with pg.throwaway_database(postgres_admin_url) as url:
                version, durability = await pg.describe(url)
                yield Target(backend, url, version, durability, Path(scratch))
        elif backend == "sqlite":
            url = f"sqlite:///{Path(scratch) / 'stepline.db'}"
            version = f"SQLite {sqlite3.sqlite_version}"
            yield Target(backend, url, version, SQLITE_DURABILITY, Path(scratch))
        else:
            raise ValueError(f"unknown backend {backend!r}: use {', '.join(BACKENDS)}")
