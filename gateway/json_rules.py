"""Why a JSON value does not fit a request message, in the API's words.

`json_format` refuses a bad value with Python's own words ("expected string or
bytes-like object", "invalid literal for int() with base 10", "'utf-8' codec can't
encode character"), which mean nothing to an HTTP client. When it refuses a document,
`explain` walks the document against the message's descriptor and names the first value
that breaks a proto3 JSON rule: the field as the client wrote it, and the rule. It runs
only on the error path, so it costs a valid request nothing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway.int_patterns import INT_RANGES

_T = FieldDescriptor
_FLOATS = (_T.TYPE_FLOAT, _T.TYPE_DOUBLE)
_FLOAT_WORDS = ("NaN", "Infinity", "-Infinity")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
_DURATION = re.compile(r"-?\d+(\.\d{1,9})?s")
_WRAPPERS = {
    "google.protobuf.DoubleValue": _T.TYPE_DOUBLE,
    "google.protobuf.FloatValue": _T.TYPE_FLOAT,
    "google.protobuf.Int64Value": _T.TYPE_INT64,
    "google.protobuf.UInt64Value": _T.TYPE_UINT64,
    "google.protobuf.Int32Value": _T.TYPE_INT32,
    "google.protobuf.UInt32Value": _T.TYPE_UINT32,
    "google.protobuf.BoolValue": _T.TYPE_BOOL,
    "google.protobuf.StringValue": _T.TYPE_STRING,
    "google.protobuf.BytesValue": _T.TYPE_BYTES,
}


@dataclass(frozen=True, slots=True)
class Violation:
    field: str
    """The field as the client wrote it: `retryPolicy.maximumAttempts`, `tags[2]`."""
    rule: str
    """What the value must be: `must be an integer from 0 to 2147483647`."""

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class _Broken(Exception):
    def __init__(self, violation: Violation) -> None:
        super().__init__(str(violation))
        self.violation = violation


def explain(document: Any, descriptor: Descriptor) -> Violation | None:
    """The first value of `document` (a JSON object) that `descriptor` cannot take."""
    try:
        _message(document, descriptor, "")
    except _Broken as broken:
        return broken.violation
    return None


def explain_value(value: Any, field: FieldDescriptor, name: str) -> Violation | None:
    """The same for one field's value (a query or path parameter), named `name`."""
    try:
        _field(value, field, name)
    except _Broken as broken:
        return broken.violation
    return None


def _fail(path: str, rule: str) -> None:
    raise _Broken(Violation(path or "(the body)", rule))


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _message(value: Any, descriptor: Descriptor, path: str) -> None:
    name = descriptor.full_name
    if name.startswith("google.protobuf."):
        _well_known(value, name, path)
        return
    if not isinstance(value, dict):
        _fail(path, "must be a JSON object")
    fields = {**{f.json_name: f for f in descriptor.fields}}
    fields.update({f.name: f for f in descriptor.fields})
    for key, item in value.items():
        field = fields.get(key)
        if field is not None:
            _field(item, field, _join(path, key))


def _field(value: Any, field: FieldDescriptor, path: str) -> None:
    if value is None:
        return  # null is the field's default value in proto3 JSON
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        if not isinstance(value, dict):
            _fail(path, "must be a JSON object")
        entry = message.fields_by_name["value"]
        for key, item in value.items():
            _single(item, entry, f"{path}[{key!r}]")
        return
    if field.is_repeated:
        if not isinstance(value, list):
            _fail(path, "must be a JSON array")
        for index, item in enumerate(value):
            _single(item, field, f"{path}[{index}]")
        return
    _single(value, field, path)


def _single(value: Any, field: FieldDescriptor, path: str) -> None:
    if field.message_type is not None:
        _message(value, field.message_type, path)
    elif field.enum_type is not None:
        _enum(value, field, path)
    else:
        _scalar(value, field.type, path)


def _enum(value: Any, field: FieldDescriptor, path: str) -> None:
    assert field.enum_type is not None
    names = [v.name for v in field.enum_type.values]
    if isinstance(value, int) and not isinstance(value, bool):
        if -(2**31) <= value < 2**31:
            return
    elif isinstance(value, str) and value in names:
        return
    _fail(path, f"must be one of {', '.join(names)} (or its number)")


def _scalar(value: Any, kind: int, path: str) -> None:
    if kind == _T.TYPE_STRING:
        if not isinstance(value, str):
            _fail(path, "must be a string")
        _unicode(value, path)
    elif kind == _T.TYPE_BYTES:
        if not isinstance(value, str):
            _fail(path, "must be a base64 string")
    elif kind == _T.TYPE_BOOL:
        if not isinstance(value, bool):
            _fail(path, "must be true or false")
    elif kind in _FLOATS:
        _float(value, path)
    else:
        _integer(value, kind, path)


def _integer(value: Any, kind: int, path: str) -> None:
    low, high = INT_RANGES[kind]
    rule = (
        f"must be an integer from {low} to {high} (a JSON number, or a string of its "
        'canonical decimal digits, like "12")'
    )
    number = _number(value)
    if number is None or not math.isfinite(number) or number != int(number):
        _fail(path, rule)
    assert number is not None
    if not low <= int(number) <= high:
        _fail(path, rule)


def _float(value: Any, path: str) -> None:
    if isinstance(value, str) and value in _FLOAT_WORDS:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(path, 'must be a number (or "NaN", "Infinity", "-Infinity")')


def _number(value: Any) -> float | None:
    """The value as a number, if proto3 JSON takes it as one (a string of one too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() == value else None
        except ValueError:
            return None
    return None


def _well_known(value: Any, name: str, path: str) -> None:
    if name == "google.protobuf.Timestamp":
        if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
            _fail(path, 'must be an RFC 3339 time with its offset, like "2030-01-01T09:00:00Z"')
    elif name == "google.protobuf.Duration":
        if not isinstance(value, str) or not _DURATION.fullmatch(value):
            _fail(path, 'must be a duration in seconds ending in "s", like "1.5s"')
    elif name == "google.protobuf.Struct":
        if not isinstance(value, dict):
            _fail(path, "must be a JSON object")
        _any_json(value, path)
    elif name == "google.protobuf.ListValue":
        if not isinstance(value, list):
            _fail(path, "must be a JSON array")
        _any_json(value, path)
    elif name == "google.protobuf.Value":
        _any_json(value, path)
    elif name in _WRAPPERS:
        _scalar(value, _WRAPPERS[name], path)
    elif name == "google.protobuf.FieldMask" and not isinstance(value, str):
        _fail(path, "must be a string of comma-separated field paths")


def _any_json(value: Any, path: str) -> None:
    """Free-form JSON: any value, but text must be valid Unicode and numbers finite."""
    if isinstance(value, str):
        _unicode(value, path)
    elif isinstance(value, float) and not math.isfinite(value):
        _fail(path, "must be a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            _unicode(key, path, "its keys")
            _any_json(item, _join(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _any_json(item, f"{path}[{index}]")


def _unicode(text: str, path: str, what: str = "text") -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        _fail(path, f"{what} must be valid Unicode (it has an unpaired surrogate, like \\udfff)")
