"""Records of access control: namespaces and API keys (the store keeps only a key's
SHA-256, never its secret)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from storage.rows import Codec, Row

# The namespace of an operator key: it is valid in every namespace.
ANY_NAMESPACE = "*"


class Role(StrEnum):
    READER = "reader"
    CLIENT = "client"
    WORKER = "worker"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Namespace:
    namespace_id: str
    description: str
    retention: timedelta
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NamespaceCreateParams:
    namespace_id: str
    description: str = ""
    retention: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class NamespaceUpdateParams:
    """None leaves a field as it is."""

    namespace_id: str
    description: str | None = None
    retention: timedelta | None = None


@dataclass(frozen=True, slots=True)
class NamespaceListParams:
    """Namespaces after `after` (exclusive) in ID order; `limit` of them at most."""

    after: str = ""
    limit: int = 50


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    namespace_id: str
    name: str
    role: Role
    secret_sha256: bytes
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApiKeyCreateParams:
    key_id: str
    namespace_id: str
    name: str
    role: Role
    secret_sha256: bytes


@dataclass(frozen=True, slots=True)
class ApiKeyRevokeParams:
    namespace_id: str
    key_id: str


# --- rows to records and params -------------------------------------------------------


def namespace_from_row(row: Row, codec: Codec) -> Namespace:
    return Namespace(
        namespace_id=row["namespace_id"],
        description=row["description"],
        retention=codec.interval(row["retention"]),
        created_at=codec.moment(row["created_at"]),
    )


def api_key_from_row(row: Row, codec: Codec) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        namespace_id=row["namespace_id"],
        name=row["name"],
        role=Role(row["role"]),
        secret_sha256=bytes(row["secret_sha256"]),
        created_at=codec.moment(row["created_at"]),
        last_used_at=codec.moment_or_none(row["last_used_at"]),
        revoked_at=codec.moment_or_none(row["revoked_at"]),
    )


def namespace_insert_params(params: NamespaceCreateParams, codec: Codec) -> dict[str, Any]:
    return {
        "namespace_id": params.namespace_id,
        "description": params.description,
        "retention": codec.interval_param(params.retention),
    }


def namespace_update_params(params: NamespaceUpdateParams, codec: Codec) -> dict[str, Any]:
    retention = params.retention
    return {
        "namespace_id": params.namespace_id,
        "description": params.description,
        "retention": None if retention is None else codec.interval_param(retention),
    }


def api_key_insert_params(params: ApiKeyCreateParams) -> dict[str, Any]:
    return {
        "key_id": params.key_id,
        "namespace_id": params.namespace_id,
        "name": params.name,
        "role": params.role.value,
        "secret_sha256": params.secret_sha256,
    }
