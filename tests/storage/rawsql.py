"""Backend-specific SQL for what the Store API cannot do on purpose: forcing equal
created_at values (to test keyset tie-breaks) and moving a deadline into the past
(to test deadline handling without waiting on the wall clock).

SQLite stores timestamps as INTEGER microseconds since the Unix epoch; PostgreSQL
as timestamptz. Both name their tables stepline_workflow_runs and stepline_step_attempts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import LiteralString

import psycopg
from psycopg import sql

from storage import Store, sqlite_path_from_url

RUNS_TABLE = "stepline_workflow_runs"
STEPS_TABLE = "stepline_step_attempts"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Backend:
    """A migrated store, and how to reach its database directly."""

    name: str
    """"sqlite" or "postgres"."""
    url: str
    store: Store

    @property
    def migrations_package(self) -> str:
        return f"storage.{self.name}"


def sqlite_micros(when: datetime) -> int:
    return (when - _EPOCH) // timedelta(microseconds=1)


async def query(backend_name: str, url: str, statement: LiteralString) -> list[tuple[object, ...]]:
    """Rows of a read-only statement without parameters."""
    if backend_name == "postgres":
        async with await psycopg.AsyncConnection.connect(url) as conn:
            cursor = await conn.execute(statement)
            return [tuple(row) for row in await cursor.fetchall()]
    with closing(sqlite3.connect(sqlite_path_from_url(url), timeout=10)) as conn:
        return [tuple(row) for row in conn.execute(statement).fetchall()]


async def set_times(backend: Backend, table: str, ids: Sequence[str], **columns: datetime) -> None:
    """UPDATE `table` SET each column to its time WHERE id is one of `ids`."""
    if backend.name == "postgres":
        updated = await _set_times_postgres(backend.url, table, ids, columns)
    else:
        updated = _set_times_sqlite(backend.url, table, ids, columns)
    assert updated == len(ids)


async def _set_times_postgres(
    url: str, table: str, ids: Sequence[str], columns: dict[str, datetime]
) -> int:
    statement = sql.SQL("UPDATE {} SET {} WHERE id = ANY(%s::uuid[])").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(n)) for n in columns),
    )
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(statement, [*columns.values(), list(ids)])
        return cursor.rowcount


def _set_times_sqlite(
    url: str, table: str, ids: Sequence[str], columns: dict[str, datetime]
) -> int:
    assignments = ", ".join(f'"{n}" = ?' for n in columns)
    marks = ", ".join("?" for _ in ids)
    values = [sqlite_micros(t) for t in columns.values()]
    with closing(sqlite3.connect(sqlite_path_from_url(url), timeout=10)) as conn:
        cursor = conn.execute(
            f'UPDATE "{table}" SET {assignments} WHERE id IN ({marks})', [*values, *ids]
        )
        conn.commit()
        return cursor.rowcount


async def set_created_at(backend: Backend, table: str, ids: Sequence[str], when: datetime) -> None:
    await set_times(backend, table, ids, created_at=when)


async def set_deadline(backend: Backend, run_id: str, when: datetime) -> None:
    await set_times(backend, RUNS_TABLE, [run_id], deadline_at=when)


async def raw_rows(backend: Backend, table: str, column: str, value: str) -> list[str]:
    """Every row of `table` whose `column` equals `value`, as the database's own text of
    all its columns, in id order: what "byte for byte unchanged" compares."""
    if backend.name == "postgres":
        statement = sql.SQL("SELECT t::text FROM {} AS t WHERE {} = %s::uuid ORDER BY id").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        async with await psycopg.AsyncConnection.connect(backend.url) as conn:
            cursor = await conn.execute(statement, [value])
            return [str(row[0]) for row in await cursor.fetchall()]
    with closing(sqlite3.connect(sqlite_path_from_url(backend.url), timeout=10)) as conn:
        rows = conn.execute(
            f'SELECT * FROM "{table}" WHERE "{column}" = ? ORDER BY id', [value]
        ).fetchall()
    return [repr(tuple(row)) for row in rows]


async def table_columns(backend: Backend, table: str) -> set[str]:
    """The names of `table`'s columns, from the database's catalog."""
    if backend.name == "postgres":
        async with await psycopg.AsyncConnection.connect(backend.url) as conn:
            cursor = await conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                [table],
            )
            return {str(row[0]) for row in await cursor.fetchall()}
    with closing(sqlite3.connect(sqlite_path_from_url(backend.url), timeout=10)) as conn:
        return {str(row[1]) for row in conn.execute(f'PRAGMA table_info("{table}")')}


async def execute(backend: Backend, statements: Sequence[LiteralString]) -> None:
    """Run statements without parameters (DDL such as a test's trigger), committed."""
    if backend.name == "postgres":
        async with await psycopg.AsyncConnection.connect(backend.url, autocommit=True) as conn:
            for statement in statements:
                await conn.execute(statement)
        return
    with closing(sqlite3.connect(sqlite_path_from_url(backend.url), timeout=10)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()


async def count_rows(backend: Backend, table: str, column: str, value: str) -> int:
    """How many rows of `table` have `column` (a UUID column) equal to `value`."""
    if backend.name == "postgres":
        statement = sql.SQL("SELECT count(*) FROM {} WHERE {} = %s::uuid").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        async with await psycopg.AsyncConnection.connect(backend.url) as conn:
            cursor = await conn.execute(statement, [value])
            row = await cursor.fetchone()
            return int(row[0]) if row else 0
    with closing(sqlite3.connect(sqlite_path_from_url(backend.url), timeout=10)) as conn:
        found = conn.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" = ?', [value])
        return int(found.fetchone()[0])
