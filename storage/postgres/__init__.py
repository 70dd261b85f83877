"""The PostgreSQL backend: psycopg 3, LISTEN/NOTIFY wake-ups, SKIP LOCKED claims."""

from storage.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
