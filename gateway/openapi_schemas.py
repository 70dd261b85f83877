"""JSON Schemas (OpenAPI 3.1) of protobuf messages and enums as proto3 JSON.

They describe what `google.protobuf.json_format` reads and writes: lowerCamelCase
property names (the proto names are accepted on input too), 64-bit integers as decimal
strings, enums by name, and the well-known types in their JSON forms. Messages and
enums become components named by their full proto name; well-known types are inlined.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from gateway import comments
from gateway.int_patterns import range_pattern

Schema = dict[str, Any]
REF_PREFIX = "#/components/schemas/"

_INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
_UINT32 = {"type": "integer", "format": "uint32", "minimum": 0, "maximum": 2**32 - 1}
_INT64 = {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
_UINT64 = {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"}
# json_format writes NaN and the infinities as strings.
_FLOAT = {
    "oneOf": [
        {"type": "number"},
        {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]},
    ]
}
_BYTES = {"type": "string", "format": "byte", "contentEncoding": "base64"}
_TIMESTAMP = {
    "type": "string",
    "format": "date-time",
    "description": "RFC 3339 time, e.g. 2026-01-02T03:04:05.678Z.",
}
_DURATION = {
    "type": "string",
    "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
    "description": 'Seconds with an "s" suffix, e.g. "1.5s".',
}

_T = FieldDescriptor
_SCALARS: dict[int, Schema] = {
    _T.TYPE_DOUBLE: _FLOAT,
    _T.TYPE_FLOAT: _FLOAT,
    _T.TYPE_INT32: _INT32,
    _T.TYPE_SINT32: _INT32,
    _T.TYPE_SFIXED32: _INT32,
    _T.TYPE_UINT32: _UINT32,
    _T.TYPE_FIXED32: _UINT32,
    _T.TYPE_INT64: _INT64,
    _T.TYPE_SINT64: _INT64,
    _T.TYPE_SFIXED64: _INT64,
    _T.TYPE_UINT64: _UINT64,
    _T.TYPE_FIXED64: _UINT64,
    _T.TYPE_BOOL: {"type": "boolean"},
    _T.TYPE_STRING: {"type": "string"},
    _T.TYPE_BYTES: _BYTES,
}

_WRAPPERS: dict[str, Schema] = {
    "google.protobuf.DoubleValue": _FLOAT,
    "google.protobuf.FloatValue": _FLOAT,
    "google.protobuf.Int64Value": _INT64,
    "google.protobuf.UInt64Value": _UINT64,
    "google.protobuf.Int32Value": _INT32,
    "google.protobuf.UInt32Value": _UINT32,
    "google.protobuf.BoolValue": {"type": "boolean"},
    "google.protobuf.StringValue": {"type": "string"},
    "google.protobuf.BytesValue": _BYTES,
}

WELL_KNOWN: dict[str, Schema] = {
    **_WRAPPERS,
    "google.protobuf.Timestamp": _TIMESTAMP,
    "google.protobuf.Duration": _DURATION,
    "google.protobuf.Value": {"description": "Any JSON value."},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Comma-separated lowerCamelCase field paths.",
    },
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
}
_NULL_VALUE = "google.protobuf.NullValue"
_INT32_TYPES = frozenset(
    {_T.TYPE_INT32, _T.TYPE_SINT32, _T.TYPE_SFIXED32, _T.TYPE_UINT32, _T.TYPE_FIXED32}
)
# A Value takes null as a value of its own; its schema already says "any JSON value".
_NULL_ALREADY = frozenset({"google.protobuf.Value"})

# The server's checks on a field, as extra schema keywords (see openapi_rules).
FieldRules = Callable[[FieldDescriptor], "FieldRule"]


@dataclass(frozen=True, slots=True)
class FieldRule:
    keywords: Schema = dataclass_field(default_factory=dict)
    required: bool = False


NO_RULE = FieldRule()


def read_messages(requests: Iterable[Descriptor]) -> frozenset[str]:
    """The request messages and every message they nest, by full name."""
    seen: set[str] = set()
    pending = list(requests)
    while pending:
        message = pending.pop()
        if message.full_name in seen:
            continue
        seen.add(message.full_name)
        pending += [f.message_type for f in message.fields if f.message_type is not None]
    return frozenset(seen)


def ref(name: str) -> Schema:
    return {"$ref": REF_PREFIX + name}


class SchemaRegistry:
    """Builds component schemas on demand; `components` holds every one built so far."""

    def __init__(
        self, rules: FieldRules = lambda _field: NO_RULE, read: frozenset[str] | None = None
    ) -> None:
        """`read`: the full names of the messages the server reads (requests and what
        they nest); only their fields accept null. None: every message's do."""
        self.components: dict[str, Schema] = {}
        self._rules = rules
        self._read = read

    def message(self, message: Descriptor) -> Schema:
        """A reference to the message's component (or the inline form of a well-known type)."""
        if message.full_name in WELL_KNOWN:
            return copy.deepcopy(WELL_KNOWN[message.full_name])
        if message.full_name not in self.components:
            self.components[message.full_name] = {}  # placeholder: recursive messages
            self.components[message.full_name] = self.object_schema(message, ())
        return ref(message.full_name)

    def object_schema(self, message: Descriptor, omit: Iterable[str]) -> Schema:
        """The message as a JSON object, without the fields named in `omit`."""
        skipped = set(omit)
        fields = [f for f in message.fields if f.name not in skipped]
        schema: Schema = {"type": "object"}
        _describe(schema, message.full_name)
        required = [f.json_name for f in fields if self._rules(f).required]
        # A response message's fields are never null; a request's may be (as their default).
        read = self._read is None or message.full_name in self._read
        schema["properties"] = {
            f.json_name: self.field(
                f, in_object=True, nullable=read and f.json_name not in required
            )
            for f in fields
        }
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        return schema

    def field(
        self, field: FieldDescriptor, *, in_object: bool = False, nullable: bool = False
    ) -> Schema:
        """The field's schema. `in_object`: a property of a JSON object, where a 32-bit
        integer may also be written as a string, as proto3 JSON allows (in a query string
        every value is text anyway). `nullable`: JSON null is accepted too (proto3 JSON
        reads a null as the field's default value), as for every field not required."""
        schema = self._field(field)
        if in_object and field.type in _INT32_TYPES and not field.is_repeated:
            schema = _or_string(schema)
        takes_null = (
            field.message_type is not None and field.message_type.full_name in _NULL_ALREADY
        )
        if nullable and not takes_null and schema.get("type") != "null":
            description = schema.pop("description", None)
            schema = {"anyOf": [schema, {"type": "null"}]}
            if description:
                schema["description"] = description
        return schema

    def _field(self, field: FieldDescriptor) -> Schema:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            schema: Schema = {"type": "object", "additionalProperties": self.single(value)}
        elif field.is_repeated:
            # A rule may narrow the items (`items` replaces the element schema).
            schema = {"type": "array", "items": self.single(field), **self._rules(field).keywords}
        else:
            # A rule's keyword set to None removes it (a rule replacing a oneOf).
            merged = {**self.single(field), **self._rules(field).keywords}
            schema = {key: value for key, value in merged.items() if value is not None}
        _describe(schema, field.full_name)
        return schema

    def single(self, field: FieldDescriptor) -> Schema:
        """One value of the field (an element, for a repeated field)."""
        if field.enum_type is not None:
            return self.enum(field.enum_type)
        if field.message_type is not None:
            return self.message(field.message_type)
        return copy.deepcopy(_SCALARS[field.type])

    def enum(self, enum: EnumDescriptor) -> Schema:
        if enum.full_name == _NULL_VALUE:
            return {"type": "null"}
        if enum.full_name not in self.components:
            schema: Schema = {"type": "string", "enum": [v.name for v in enum.values]}
            _describe(schema, enum.full_name, _value_lines(enum))
            self.components[enum.full_name] = schema
        return ref(enum.full_name)


def _or_string(schema: Schema) -> Schema:
    """An integer schema, or the same range as a string of canonical decimal digits."""
    description = schema.pop("description", None)
    low, high = schema["minimum"], schema["maximum"]
    text = {"type": "string", "pattern": range_pattern(low, high)}
    combined: Schema = {"oneOf": [schema, text]}
    if description:
        combined["description"] = description
    return combined


def _value_lines(enum: EnumDescriptor) -> list[str]:
    """A Markdown list of the values and their comments; empty when none has a comment."""
    texts = {v.name: comments.comment(f"{enum.full_name}.{v.name}") for v in enum.values}
    if not any(texts.values()):
        return []
    return [f"- `{name}`" + (f": {text}" if text else "") for name, text in texts.items()]


def _describe(schema: Schema, full_name: str, extra: list[str] | None = None) -> None:
    """Put the proto comment (and any extra lines) in `description`, keeping an existing one."""
    parts = [p for p in (comments.comment(full_name), schema.get("description")) if p]
    if extra:
        parts.append("\n".join(extra))
    if parts:
        schema["description"] = "\n\n".join(parts)
