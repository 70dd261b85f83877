"""PostgreSQL's values: psycopg loads and dumps timestamptz, interval and text[] itself
(json and uuid are loaded as text, see database.py), so only IDs need care."""

from __future__ import annotations

import re

from storage.rows import Codec

NIL_UUID = "00000000-0000-0000-0000-000000000000"

_UUID = re.compile(r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")


def db_uuid(value: str) -> str:
    """`value` when PostgreSQL reads it as a uuid, else the nil UUID, which no row has:
    a malformed ID finds nothing (and raises the matching not-found or lease error)
    instead of failing the query's uuid cast."""
    return value if _UUID.fullmatch(value) else NIL_UUID


class PostgresCodec(Codec):
    def id_param(self, value: str) -> str:
        return db_uuid(value)


CODEC = PostgresCodec()
