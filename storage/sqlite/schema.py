"""Applying the numbered migrations in storage/sqlite/migrations."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator

from storage.errors import StoreError
from storage.migrations import Migration, load_migrations
from storage.sqlite.database import Database, Tx


def migrate(database: Database) -> list[str]:
    """Apply the missing migrations in order; return the names applied ("0001_initial").

    Each migration runs in its own BEGIN IMMEDIATE transaction and is skipped when it
    is already recorded, so processes that start at once apply each one exactly once.
    """
    database.write(lambda tx: tx.execute("migrations_create_table"))
    applied: list[str] = []
    # Off around the migrations, so that one can rebuild a table (SQLite's documented way
    # to change a constraint); each checks the foreign keys before it commits.
    database.foreign_keys(on=False)
    try:
        for migration in load_migrations("storage.sqlite"):
            if database.write(functools.partial(_apply, migration=migration)):
                applied.append(f"{migration.version:04d}_{migration.name}")
    finally:
        database.foreign_keys(on=True)
    database.tracks_wakes = True
    return applied


def _apply(tx: Tx, migration: Migration) -> bool:
    if migration.version in {row["version"] for row in tx.rows("migrations_applied")}:
        return False
    for statement in statements(migration.sql):
        tx.execute_sql(statement)
    if tx.rows("foreign_key_check"):
        raise StoreError(f"migration {migration.name} broke a foreign key")
    tx.execute("migrations_record", version=migration.version, name=migration.name)
    return True


def statements(script: str) -> Iterator[str]:
    """The statements of a script, one per `execute`: sqlite3's executescript would
    commit the surrounding transaction first. A statement ends on the line where
    SQLite's own tokenizer finds it complete; comments and string literals are safe."""
    pending: list[str] = []
    for line in script.splitlines(keepends=True):
        pending.append(line)
        text = "".join(pending)
        if sqlite3.complete_statement(text):
            yield text.strip()
            pending = []
