"""API key secrets: how they are made, recognised and checked.

A secret reads `stepline_<key_id>_<random>`: the key ID (16 hex digits, shown by
ListApiKeys) finds the stored record in one indexed read; the random part is 32 bytes
from the OS's CSPRNG (256 bits, URL-safe base64). The store keeps only the SHA-256 of
the whole secret, compared in constant time. SHA-256 rather than a slow password hash:
the secret is random, not chosen by a person, so there is no dictionary to try, and
guessing one is as hard as guessing 256 bits either way.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from storage import Store
from storage.access import ApiKey, ApiKeyCreateParams, Role

PREFIX = "stepline_"
_SECRET = re.compile(r"stepline_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_BEARER = re.compile(r"bearer[ \t]+(\S+)[ \t]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    secret: str
    secret_sha256: bytes


def new_key() -> NewKey:
    key_id = secrets.token_hex(8)
    secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id, secret, digest(secret))


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def key_id_of(secret: str) -> str | None:
    """The key ID of a well-formed secret; None for anything else."""
    match = _SECRET.fullmatch(secret)
    return None if match is None else match[1]


def matches(secret: str, secret_sha256: bytes) -> bool:
    return hmac.compare_digest(digest(secret), secret_sha256)


def bearer(authorization: str) -> str | None:
    """The credential of an `authorization: Bearer <secret>` value."""
    match = _BEARER.fullmatch(authorization)
    return None if match is None else match[1]


async def issue(store: Store, namespace_id: str, name: str, role: Role) -> tuple[ApiKey, str]:
    """Make a key and record its hash: the record, and the secret to show once."""
    made = new_key()
    params = ApiKeyCreateParams(made.key_id, namespace_id, name, role, made.secret_sha256)
    return await store.api_key_create(params), made.secret
