"""The SQLite backend: an embedded database file, the zero-setup default."""

from __future__ import annotations

from storage.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
