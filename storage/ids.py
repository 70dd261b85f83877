"""UUIDv7 identifiers: time-ordered, so new rows land at the end of their indexes."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> str:
    """A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits."""
    return _uuid7(time.time_ns() // 1_000_000, int.from_bytes(os.urandom(10), "big"))


def sorted_uuid7s(count: int) -> list[str]:
    """`count` version 7 UUIDs of this millisecond, in ascending order: IDs for rows that
    share a created_at and must list in a given order. One read of the random source."""
    millis = time.time_ns() // 1_000_000
    random = os.urandom(10 * count)
    ids = [
        _uuid7(millis, int.from_bytes(random[i : i + 10], "big")) for i in range(0, 10 * count, 10)
    ]
    ids.sort()
    return ids


def _uuid7(millis: int, rand: int) -> str:
    value = (millis & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # rand_b, 62 bits
    return str(uuid.UUID(int=value))
