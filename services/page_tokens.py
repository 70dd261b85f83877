"""Opaque keyset page tokens.

A token holds the (created_at, id) key to continue from, the direction, and a digest
of the query it belongs to (namespace, filters or run), sealed by a keyed checksum.
A token that was altered, truncated, or is replayed against another query is
INVALID_ARGUMENT; it can never reach the database. Tokens are tamper-evident, not
secret: they reveal nothing a caller could not list anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from services import convert
from services.errors import invalid
from stepline.v1 import error_reason_pb2
from storage.records import Cursor

_KEY = b"stepline.v1 page token"
_MAC_BYTES = 12
_FIELD = "page_token"


def scope_of(*parts: object) -> str:
    """A short digest naming the query a token belongs to."""
    text = json.dumps([str(p) for p in parts], separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def encode(cursor: Cursor, scope: str) -> str:
    doc = {"d": "n" if cursor.forward else "p", "t": micros(cursor.created_at), "i": cursor.id}
    return seal(doc, scope)


def decode(token: str, scope: str) -> Cursor | None:
    """The cursor of `token`, None for an empty token; INVALID_ARGUMENT when bad."""
    doc = unseal(token, scope)
    if doc is None:
        return None
    return Cursor(created_at=moment(doc["t"]), id=doc["i"], forward=doc["d"] == "n")


def seal(doc: dict[str, Any], scope: str) -> str:
    """`doc` (JSON) and `scope` as an opaque token, sealed by a keyed checksum."""
    body = json.dumps({**doc, "s": scope}, separators=(",", ":")).encode()
    mac = hmac.new(_KEY, body, hashlib.blake2b).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(mac + body).rstrip(b"=").decode()


def unseal(token: str, scope: str) -> dict[str, Any] | None:
    """The doc sealed in `token`, None for an empty token; INVALID_ARGUMENT when the
    token is malformed, altered, or of another scope."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise _bad("is not a page token") from None
    mac, body = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    expected = hmac.new(_KEY, body, hashlib.blake2b).digest()[:_MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        raise _bad("is corrupted or was altered")
    doc: dict[str, Any] = json.loads(body)
    if doc["s"] != scope:
        raise _bad("belongs to a different query; use the same filters as the first page")
    return doc


def micros(at: datetime) -> int:
    """A time as microseconds since the Unix epoch, as tokens hold it."""
    delta = at - convert.EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def moment(value: int) -> datetime:
    return convert.EPOCH + timedelta(microseconds=value)


def _bad(message: str) -> Exception:
    return invalid(_FIELD, message, error_reason_pb2.ERROR_REASON_INVALID_PAGE_TOKEN)
