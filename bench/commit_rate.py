"""The database's raw single-row commit rate: the ceiling a store pays one commit per step.

PostgreSQL: autocommit single-row INSERTs from psycopg connections, serially and from
several connections at once (as many as the server's pool). SQLite: one connection with
the store's pragmas (WAL, synchronous=FULL), each INSERT its own BEGIN IMMEDIATE
transaction; SQLite has one writer, so there is no concurrent figure.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

_PAYLOAD = '{"step": 1, "ok": true}'
_CREATE = (
    "CREATE TABLE bench_commit_rate"
    " (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb NOT NULL)"
)
_INSERT = "INSERT INTO bench_commit_rate (payload) VALUES (%s)"
_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout = 5000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
)
_SQLITE_CREATE = "CREATE TABLE bench_commit_rate (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)"
_SQLITE_INSERT = "INSERT INTO bench_commit_rate (payload) VALUES (?)"


@dataclass(frozen=True, slots=True)
class CommitRate:
    serial: float
    """Commits per second from one connection."""
    concurrent: float | None
    """Commits per second from `concurrency` connections; None where there is one writer."""
    concurrency: int


async def postgres_commit_rate(url: str, seconds: float, concurrency: int) -> CommitRate:
    """Measure in a scratch table of the database at `url`, dropped afterwards."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(_CREATE)
        try:
            serial = await _postgres_rate(url, seconds, 1)
            concurrent = await _postgres_rate(url, seconds, concurrency)
        finally:
            await conn.execute("DROP TABLE bench_commit_rate")
    return CommitRate(serial=serial, concurrent=concurrent, concurrency=concurrency)


async def _postgres_rate(url: str, seconds: float, connections: int) -> float:
    conns = [
        await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(connections)
    ]
    try:
        stop_at = time.perf_counter() + seconds
        began = time.perf_counter()
        counts = await asyncio.gather(*(_postgres_writer(c, stop_at) for c in conns))
        return sum(counts) / (time.perf_counter() - began)
    finally:
        for conn in conns:
            await conn.close()


async def _postgres_writer(
    conn: psycopg.AsyncConnection[tuple[object, ...]], stop_at: float
) -> int:
    commits = 0
    while time.perf_counter() < stop_at:
        await conn.execute(_INSERT, (_PAYLOAD,))
        commits += 1
    return commits


async def sqlite_commit_rate(path: Path, seconds: float) -> CommitRate:
    """Measure in a scratch database file at `path` (made and removed here)."""
    serial = await asyncio.to_thread(_sqlite_rate, path, seconds)
    return CommitRate(serial=serial, concurrent=None, concurrency=1)


def _sqlite_rate(path: Path, seconds: float) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in _SQLITE_PRAGMAS:
            conn.execute(pragma)
        conn.execute(_SQLITE_CREATE)
        commits = 0
        began = time.perf_counter()
        stop_at = began + seconds
        while time.perf_counter() < stop_at:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_SQLITE_INSERT, (_PAYLOAD,))
            conn.execute("COMMIT")
            commits += 1
        return commits / (time.perf_counter() - began)
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
