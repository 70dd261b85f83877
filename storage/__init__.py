"""Storage: one Store interface, backends in storage.sqlite and storage.postgres.

Imports nothing from services, gateway or the SDK; speaks in storage.records.
"""

from __future__ import annotations

from pathlib import Path

from storage.errors import (
    ApiKeyNotFound,
    ExecutionAlreadyEnded,
    IdempotencyConflict,
    LeaseLost,
    NamespaceAlreadyExists,
    NamespaceNotFound,
    RunAlreadyTerminal,
    RunDeadlineExceeded,
    RunNotFound,
    RunNotTerminal,
    StepAlreadyCompleted,
    StepAttemptNotFound,
    StepKindMismatch,
    StepNotFound,
    StepNotRunning,
    StorageUnavailable,
    StoreError,
)
from storage.interface import Store

DEFAULT_SQLITE_PATH = Path(".stepline") / "stepline.db"
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_SQLITE_PATH}"

__all__ = [
    "DEFAULT_DATABASE_URL",
    "ApiKeyNotFound",
    "ExecutionAlreadyEnded",
    "IdempotencyConflict",
    "LeaseLost",
    "NamespaceAlreadyExists",
    "NamespaceNotFound",
    "RunAlreadyTerminal",
    "RunDeadlineExceeded",
    "RunNotFound",
    "RunNotTerminal",
    "StepAlreadyCompleted",
    "StepAttemptNotFound",
    "StepKindMismatch",
    "StepNotFound",
    "StepNotRunning",
    "StorageUnavailable",
    "Store",
    "StoreError",
    "create_store",
    "sqlite_path_from_url",
]


def sqlite_path_from_url(url: str) -> Path:
    """`sqlite:///relative/file.db` or `sqlite:////absolute/file.db`."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(f"not a sqlite:/// URL with a path: {url!r}")
    return Path(url[len(prefix) :])


def create_store(url: str, *, pool_size: int = 10, pool_timeout: float = 10.0) -> Store:
    """A Store for a `postgresql://` or `sqlite:///` URL; call `start()` then `migrate()`.

    `pool_size` and `pool_timeout` (seconds to wait for a connection) apply to PostgreSQL.
    """
    if url.startswith(("postgresql://", "postgres://")):
        from storage.postgres import PostgresStore

        return PostgresStore(url, pool_size=pool_size, pool_timeout=pool_timeout)
    if url.startswith("sqlite:"):
        from storage.sqlite import SqliteStore

        return SqliteStore(sqlite_path_from_url(url))
    raise ValueError(f"unsupported database URL {url!r}: use postgresql://… or sqlite:///…")
