"""SQLite's values: times as INTEGER microseconds since the Unix epoch (UTC), intervals
as INTEGER microseconds, lists as JSON text (read with json_each)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.rows import Codec

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    # A naive datetime is taken as UTC, never as the host's local time.
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - _EPOCH) // _MICROSECOND


def moment(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def interval_micros(interval: timedelta) -> int:
    return interval // _MICROSECOND


def interval(value: int) -> timedelta:
    return timedelta(microseconds=value)


class SqliteCodec(Codec):
    def moment(self, value: Any) -> datetime:
        return moment(value)

    def interval(self, value: Any) -> timedelta:
        return interval(value)

    def moment_param(self, value: datetime) -> int:
        return micros(value)

    def interval_param(self, value: timedelta) -> int:
        return interval_micros(value)

    def list_param(self, values: Sequence[str | None]) -> str:
        return json.dumps(values)


CODEC = SqliteCodec()
