"""Applying the numbered migrations in storage/postgres/migrations."""

from __future__ import annotations

from storage.migrations import load_migrations
from storage.postgres.database import Database, Q, fetch


async def migrate(db: Database) -> list[str]:
    """Apply the missing migrations in order; return the names applied ("0001_initial").

    One transaction applies them all under an advisory lock, so servers that start at
    once apply each migration exactly once.
    """
    applied: list[str] = []
    async with db.transaction() as conn:
        await conn.execute(Q["migrations_lock"])
        await conn.execute(Q["migrations_create_table"])
        done = {row["version"] for row in await fetch(conn, "migrations_applied", {})}
        for migration in load_migrations("storage.postgres"):
            if migration.version in done:
                continue
            await conn.execute(migration.sql.encode())
            await conn.execute(
                Q["migrations_record"],
                {"version": migration.version, "name": migration.name},
            )
            applied.append(f"{migration.version:04d}_{migration.name}")
    return applied
