"""Request validation: bad input is INVALID_ARGUMENT naming the field, before any write."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import grpc
from google.protobuf import duration_pb2, message, struct_pb2, timestamp_pb2

from services import convert
from services.errors import ApiError, invalid
from stepline.v1 import common_pb2, error_reason_pb2
from storage.records import Failure, Json, RetryPolicy

T = TypeVar("T")

DEFAULT_NAMESPACE = "default"
DEFAULT_TASK_QUEUE = "default"
DEFAULT_PAGE_SIZE = 50
DEFAULT_BATCH_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_TEXT = 255

_NAMESPACE = re.compile(r"[A-Za-z0-9._-]{1,63}")
# A name's characters: any but whitespace, control characters and the invisible format
# characters that can disguise a name (soft hyphen, zero-width and bidirectional marks).
# Spelled out rather than \s or isprintable(), so that the OpenAPI document states this
# very class (gateway/openapi_rules.py) and means the same in every regex dialect.
NAME_CHARACTERS = (
    r"[^\u0000-\u0020\u007f-\u00a0\u00ad\u1680\u180e\u2000-\u200f"
    r"\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000\ufeff]"
)
_NAME = re.compile(f"{NAME_CHARACTERS}{{1,{MAX_TEXT}}}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")

# google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
_MIN_SECONDS = -62_135_596_800
_MAX_SECONDS = 253_402_300_799
# google.protobuf.Duration's valid range: +-10,000 years.
_MAX_DURATION_SECONDS = 315_576_000_000

DEFAULT_INITIAL_INTERVAL = timedelta(seconds=1)
DEFAULT_BACKOFF_COEFFICIENT = 2.0
DEFAULT_MAXIMUM_INTERVAL_FACTOR = 100
DEFAULT_MAXIMUM_ATTEMPTS = 5
# Retry intervals stop at 10 years (of 365.25 days): far beyond any sensible backoff, yet
# `now + interval` stays a valid time and the default maximum (initial x 100) stays inside
# Duration's range, so every stored policy renders and every retry time is computable.
MAX_RETRY_INTERVAL = timedelta(seconds=_MAX_DURATION_SECONDS // 1000)


@dataclass(frozen=True, slots=True)
class Limits:
    max_payload_bytes: int


def namespace(value: str, field: str = "namespace_id") -> str:
    if not value:
        return DEFAULT_NAMESPACE
    if not _NAMESPACE.fullmatch(value):
        raise invalid(field, "must be 1-63 characters of letters, digits, '-', '_' or '.'")
    return value


def name(value: str, field: str, default: str | None = None) -> str:
    """workflow_name, task_queue, step_id: 1-255 characters, none of them whitespace, a
    control character or an invisible format character (NAME_CHARACTERS)."""
    if not value:
        if default is not None:
            return default
        raise invalid(field, "is required")
    if not _NAME.fullmatch(value):
        raise invalid(field, "must be 1-255 characters without whitespace or control characters")
    return value


DEFAULT_PRIORITY = 3


def priority(value: int, field: str = "priority") -> int:
    """1 (highest) to 5; 0 (unset) is the default, 3."""
    if value == 0:
        return DEFAULT_PRIORITY
    if not 1 <= value <= 5:
        raise invalid(field, "must be 1 (highest) to 5")
    return value


def optional_name(value: str, field: str) -> str | None:
    return name(value, field) if value else None


def text(value: str, field: str, max_length: int = MAX_TEXT) -> str:
    if len(value) > max_length:
        raise invalid(field, f"must be at most {max_length} characters")
    # PostgreSQL text cannot hold NUL; refuse it on every backend alike.
    if "\x00" in value:
        raise invalid(field, "must not contain NUL characters")
    return value


def identifier(value: str, field: str) -> str:
    """A UUID in its canonical 8-4-4-4-12 text form (any case accepted, lowercased)."""
    if not value:
        raise invalid(field, "is required")
    if not _UUID.fullmatch(value):
        raise invalid(field, "must be a UUID in the 8-4-4-4-12 form")
    return value.lower()


def optional_identifier(value: str, field: str) -> str | None:
    return identifier(value, field) if value else None


def timestamp(msg: message.Message, field: str) -> datetime | None:
    """The field's time, or None when unset; out of Timestamp's range is invalid."""
    if not msg.HasField(field):
        return None
    ts: timestamp_pb2.Timestamp = getattr(msg, field)
    if not _MIN_SECONDS <= ts.seconds <= _MAX_SECONDS or not 0 <= ts.nanos < 1_000_000_000:
        raise invalid(field, "is out of range (0001-01-01 to 9999-12-31)")
    return convert.to_datetime(ts)


def duration(msg: message.Message, field: str, label: str | None = None) -> timedelta | None:
    """The field's duration, or None when unset; `label` names it in errors (default: field)."""
    if not msg.HasField(field):
        return None
    d: duration_pb2.Duration = getattr(msg, field)
    seconds, nanos = d.seconds, d.nanos
    if (
        abs(seconds) > _MAX_DURATION_SECONDS
        or abs(nanos) >= 1_000_000_000
        or (seconds > 0 > nanos)
        or (seconds < 0 < nanos)
    ):
        raise invalid(label or field, "is not a valid duration")
    return timedelta(seconds=seconds, microseconds=nanos // 1000)


def page_size(value: int, default: int = DEFAULT_PAGE_SIZE) -> int:
    if value == 0:
        return default
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise invalid("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    return value


def _check_size(msg: message.Message, field: str, limits: Limits) -> None:
    if msg.ByteSize() > limits.max_payload_bytes:
        raise ApiError(
            grpc.StatusCode.INVALID_ARGUMENT,
            error_reason_pb2.ERROR_REASON_PAYLOAD_TOO_LARGE,
            f"{field}: is larger than the {limits.max_payload_bytes}-byte payload limit",
            {"limit_bytes": str(limits.max_payload_bytes)},
            field=field,
        )


def payload(msg: message.Message, field: str, limits: Limits) -> Json | None:
    """A Value field as JSON text, or None when unset."""
    if not msg.HasField(field):
        return None
    value: struct_pb2.Value = getattr(msg, field)
    _check_size(value, field, limits)
    try:
        return convert.value_to_json(value)
    except convert.NotJsonError as exc:
        raise invalid(field, str(exc)) from None


def struct(msg: message.Message, field: str, limits: Limits) -> dict[str, Any] | None:
    if not msg.HasField(field):
        return None
    value: struct_pb2.Struct = getattr(msg, field)
    _check_size(value, field, limits)
    try:
        return convert.struct_to_python(value)
    except convert.NotJsonError as exc:
        raise invalid(field, str(exc)) from None


def failure(msg: message.Message, field: str, limits: Limits) -> Failure:
    if not msg.HasField(field):
        raise invalid(field, "is required")
    error: common_pb2.Failure = getattr(msg, field)
    _check_size(error, field, limits)
    if not error.type and not error.message:
        raise invalid(field, "needs a type or a message")
    details = payload(error, "details", limits)
    return Failure(
        type=text(error.type, f"{field}.type"),
        message=error.message,
        stack_trace=error.stack_trace,
        details=details,
        non_retryable=error.non_retryable,
    )


def retry_policy(msg: message.Message, field: str) -> RetryPolicy:
    """The request's policy with the documented defaults filled in."""
    policy: common_pb2.RetryPolicy = getattr(msg, field)
    initial = _retry_interval(policy, "initial_interval", field) or DEFAULT_INITIAL_INTERVAL
    coefficient = policy.backoff_coefficient or DEFAULT_BACKOFF_COEFFICIENT
    if not math.isfinite(coefficient) or coefficient < 1:
        raise invalid(f"{field}.backoff_coefficient", "must be a finite number of at least 1")
    maximum = _retry_interval(policy, "maximum_interval", field)
    if maximum is not None and maximum < initial:
        raise invalid(f"{field}.maximum_interval", "must be at least initial_interval")
    attempts = (
        policy.maximum_attempts if policy.HasField("maximum_attempts") else DEFAULT_MAXIMUM_ATTEMPTS
    )
    if attempts < 0:
        raise invalid(f"{field}.maximum_attempts", "must be 0 (unlimited) or more")
    default_maximum = min(initial * DEFAULT_MAXIMUM_INTERVAL_FACTOR, MAX_RETRY_INTERVAL)
    return RetryPolicy(
        initial_interval=initial,
        backoff_coefficient=coefficient,
        maximum_interval=maximum or default_maximum,
        maximum_attempts=attempts,
    )


def _retry_interval(policy: common_pb2.RetryPolicy, name: str, field: str) -> timedelta | None:
    """A positive interval of at most MAX_RETRY_INTERVAL, or None when unset."""
    label = f"{field}.{name}"
    interval = duration(policy, name, label)
    if interval is None:
        return None
    if interval <= timedelta(0):
        raise invalid(label, "must be positive")
    if interval > MAX_RETRY_INTERVAL:
        seconds = int(MAX_RETRY_INTERVAL.total_seconds())
        raise invalid(label, f"must be at most {seconds}s (10 years)")
    return interval


def enum_values(values: Iterable[int], allowed: Mapping[Any, T], field: str) -> list[T]:
    result: list[T] = []
    for value in values:
        if value not in allowed:
            raise invalid(field, f"{value} is not an allowed value")
        result.append(allowed[value])
    return result
