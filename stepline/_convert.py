"""JSON-like Python values and times to protobuf and back.

Hand-written rather than json_format: they run for every step on the worker's hot path.
A value JSON cannot carry (a set, an object, NaN, an int past the double range, a
non-string key) raises
NotSerializableError before anything is sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2

from stepline._errors import NotSerializableError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EXACT_INT_LIMIT = 2**53


def to_python(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return {k: to_python(v) for k, v in value.struct_value.fields.items()}
    if kind == "list_value":
        return [to_python(v) for v in value.list_value.values]
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        if number.is_integer() and abs(number) < EXACT_INT_LIMIT:
            return int(number)
        return number
    if kind == "bool_value":
        return value.bool_value
    return None


def struct_to_python(struct: struct_pb2.Struct) -> dict[str, Any]:
    return {k: to_python(v) for k, v in struct.fields.items()}


def fill_value(out: struct_pb2.Value, obj: Any, where: str = "value") -> None:
    """Write `obj` into `out`; NotSerializableError names the path of a bad part."""
    try:
        _fill(out, obj)
    except _NotJson:
        raise NotSerializableError(_explain(obj, where)) from None


def fill_struct(out: struct_pb2.Struct, obj: Mapping[Any, Any], where: str = "value") -> None:
    try:
        _fill_struct(out, obj)
    except _NotJson:
        raise NotSerializableError(_explain(obj, where)) from None


def to_value(obj: Any, where: str = "value") -> struct_pb2.Value:
    out = struct_pb2.Value()
    fill_value(out, obj, where)
    return out


class _NotJson(Exception):
    """Somewhere in the value is something JSON cannot carry; _explain finds where."""


def _fill(out: struct_pb2.Value, obj: Any) -> None:
    # The hot path: no path strings, they are built only when something is wrong.
    if obj is None:
        out.null_value = struct_pb2.NULL_VALUE
    elif obj is True or obj is False:
        out.bool_value = obj
    elif isinstance(obj, str):
        out.string_value = obj
    elif isinstance(obj, int | float):
        try:
            number = float(obj)  # an int past the double range raises OverflowError
        except OverflowError:
            raise _NotJson from None
        if not math.isfinite(number):
            raise _NotJson
        out.number_value = number
    elif isinstance(obj, list | tuple):
        items = out.list_value
        items.SetInParent()
        for item in obj:
            _fill(items.values.add(), item)
    elif isinstance(obj, Mapping):
        _fill_struct(out.struct_value, obj)
    else:
        raise _NotJson


def _fill_struct(out: struct_pb2.Struct, obj: Mapping[Any, Any]) -> None:
    out.SetInParent()
    fields = out.fields
    for key, item in obj.items():
        if not isinstance(key, str):
            raise _NotJson
        _fill(fields[key], item)


def _explain(obj: Any, where: str) -> str:
    """Why `obj` (found at `where`) is not JSON, naming the first bad part's path."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return f"{where} is {obj}: JSON numbers must be finite"
    if isinstance(obj, int) and not isinstance(obj, bool):
        return f"{where} is an integer too large for a JSON number (a double)"
    if isinstance(obj, list | tuple):
        for index, item in enumerate(obj):
            if _is_bad(item):
                return _explain(item, f"{where}[{index}]")
    elif isinstance(obj, Mapping):
        for key, item in obj.items():
            if not isinstance(key, str):
                return f"{where} has the key {key!r}: JSON keys are strings"
            if _is_bad(item):
                return _explain(item, f"{where}[{key!r}]")
    return (
        f"{where} is a {type(obj).__qualname__}, which is not JSON-serialisable "
        "(use dict, list, str, int, float, bool or None)"
    )


def _is_bad(obj: Any) -> bool:
    try:
        _fill(struct_pb2.Value(), obj)
    except _NotJson:
        return True
    return False


def to_timestamp(dt: datetime, where: str = "time") -> timestamp_pb2.Timestamp:
    if dt.tzinfo is None:
        raise ValueError(f"{where} must be timezone-aware (e.g. datetime.now(UTC))")
    delta = dt - EPOCH
    return timestamp_pb2.Timestamp(
        seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000
    )


def from_timestamp(ts: timestamp_pb2.Timestamp) -> datetime:
    return EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def optional_time(message: Any, field: str) -> datetime | None:
    """The field as an aware UTC datetime, or None when unset."""
    if not message.HasField(field):
        return None
    return from_timestamp(getattr(message, field))


def to_duration(delta: timedelta) -> duration_pb2.Duration:
    out = duration_pb2.Duration()
    out.FromTimedelta(delta)
    return out


def seconds_duration(seconds: float) -> duration_pb2.Duration:
    out = duration_pb2.Duration()
    out.FromNanoseconds(int(seconds * 1e9))
    return out
