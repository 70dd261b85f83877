"""Message -> proto3 JSON object, the same as `json_format.MessageToDict` with its
defaults (camelCase names, fields at their default value omitted), about five times
faster, and with map and Struct keys sorted so that equal messages render to equal
bytes (protobuf maps have no stable order).

One deliberate difference: an integral double or float within +-2**53 is rendered as
an int (`{"a": 1}`, `"backoffCoefficient": 2`), as Go's protojson and grpc-gateway
print it; json_format gives a Python float, which json.dumps prints as `1.0`. The
values are equal as numbers, and 2**53 keeps every int exactly the double it came from.

`json_format` walks the descriptor and dispatches on field types again for every
message it renders; a response of the gateway is rendered once per request, so this
module compiles a plan per message type once (JSON name and converter per field
number) and then only reads `ListFields()`. Types it does not plan for (extensions,
Any, closed enums holding unknown numbers) go to `json_format` itself, and
tests/gateway/test_render.py checks the two agree on every field type.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.internal import type_checkers
from google.protobuf.message import Message

Convert = Callable[[Any], Any]
_Plan = dict[int, tuple[str, Convert]]

_F = FieldDescriptor
_INT64 = frozenset({_F.CPPTYPE_INT64, _F.CPPTYPE_UINT64})
_WRAPPERS = frozenset(
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
)
_STRING_FORM = frozenset(
    {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
)
_plans: dict[Descriptor, _Plan | None] = {}


class _Fallback(Exception):
    """This value needs json_format."""


def to_json(message: Message) -> Any:
    """The proto3 JSON object of `message`, as `json_format.MessageToDict(message)`."""
    try:
        return _message(message)
    except _Fallback:
        return json_format.MessageToDict(message)


def _message(message: Message) -> Any:
    descriptor: Any = message.DESCRIPTOR
    plan = _plans.get(descriptor, ...)
    if plan is ...:
        plan = _plans[descriptor] = _compile(descriptor)
    if plan is None:
        return _special(message)
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        try:
            name, convert = plan[field.number]
        except KeyError:
            raise _Fallback from None  # an extension
        out[name] = convert(value)
    return out


def _special(message: Message) -> Any:
    full_name = message.DESCRIPTOR.full_name
    if full_name in _STRING_FORM:
        return message.ToJsonString()  # type: ignore[attr-defined]
    if full_name == "google.protobuf.Struct":
        return _struct(message)
    if full_name == "google.protobuf.Value":
        return _value(message)
    if full_name == "google.protobuf.ListValue":
        return [_value(v) for v in message.values]  # type: ignore[attr-defined]
    if full_name in _WRAPPERS:
        field: Any = message.DESCRIPTOR.fields_by_name["value"]
        return _scalar(field)(message.value)  # type: ignore[attr-defined]
    raise _Fallback  # Any, and anything else json_format treats specially


def _struct(message: Any) -> dict[str, Any]:
    fields = message.fields
    return {key: _value(fields[key]) for key in sorted(fields)}


def _value(message: Any) -> Any:
    kind = message.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "string_value":
        return message.string_value
    if kind == "number_value":
        number = message.number_value
        if math.isinf(number) or math.isnan(number):
            raise _Fallback  # json_format raises its own error for these
        return _number(number)
    if kind == "bool_value":
        return message.bool_value
    if kind == "struct_value":
        return _struct(message.struct_value)
    return [_value(v) for v in message.list_value.values]


def _compile(descriptor: Descriptor) -> _Plan | None:
    full_name = descriptor.full_name
    if full_name.startswith("google.protobuf.") and (
        full_name in _STRING_FORM
        or full_name in _WRAPPERS
        or full_name
        in ("google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue")
        or full_name == "google.protobuf.Any"
    ):
        return None
    return {field.number: (field.json_name, _field(field)) for field in descriptor.fields}


def _field(field: FieldDescriptor) -> Convert:
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        key_field = message.fields_by_name["key"]
        value = _scalar(message.fields_by_name["value"])
        key = _map_key if key_field.cpp_type == _F.CPPTYPE_BOOL else str
        return lambda mapping: {key(k): value(mapping[k]) for k in sorted(mapping)}
    element = _scalar(field)
    if field.is_repeated:
        if element is _same:
            return list
        return lambda values: [element(v) for v in values]
    return element


def _map_key(key: bool) -> str:
    return "true" if key else "false"


def _same(value: Any) -> Any:
    return value


def _scalar(field: FieldDescriptor) -> Convert:
    """The converter of one (non-repeated) value of `field`."""
    cpp_type = field.cpp_type
    if cpp_type == _F.CPPTYPE_MESSAGE:
        return _message
    if cpp_type == _F.CPPTYPE_ENUM:
        assert field.enum_type is not None
        return _enum(field.enum_type)
    if cpp_type in _INT64:
        return str
    if cpp_type == _F.CPPTYPE_STRING:
        return _bytes if field.type == _F.TYPE_BYTES else _same
    if cpp_type == _F.CPPTYPE_DOUBLE:
        return _double
    if cpp_type == _F.CPPTYPE_FLOAT:
        return _float
    return _same  # bool, int32, uint32


def _enum(enum: EnumDescriptor) -> Convert:
    if enum.full_name == "google.protobuf.NullValue":
        return lambda _: None
    names = {number: value.name for number, value in enum.values_by_number.items()}
    closed = enum.is_closed

    def convert(number: int) -> Any:
        name = names.get(number)
        if name is not None:
            return name
        if closed:
            raise _Fallback  # json_format raises its own error
        return number

    return convert


def _bytes(value: bytes) -> str:
    return base64.b64encode(value).decode()


_MAX_EXACT = 2.0**53  # every integer up to here is exactly a double


def _number(value: float) -> float | int:
    """A finite number as JSON prints it: an int when it is one (but -0 stays -0.0)."""
    if value.is_integer() and abs(value) <= _MAX_EXACT and (value or math.copysign(1, value) > 0):
        return int(value)
    return value


def _double(value: float) -> Any:
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    if math.isnan(value):
        return "NaN"
    return _number(value)


def _float(value: float) -> Any:
    if math.isinf(value) or math.isnan(value):
        return _double(value)
    return _number(type_checkers.ToShortestFloat(value))
