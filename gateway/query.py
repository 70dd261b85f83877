"""Query string -> request fields, for every field not bound by the path or the body.

As in grpc-gateway: a repeated field repeats its parameter (`?statuses=A&statuses=B`);
a nested field is named by its dotted path (`?sub.subfield=foo`); proto names
(`page_size`) and JSON names (`pageSize`) are both accepted; enums by name or number;
Timestamp, Duration and FieldMask take their JSON string form. Parameters that name no
such field — or a field bound by the path or the body — are ignored, as grpc-gateway
ignores them, so clients may add their own (a cache buster) and older servers accept
newer clients. A bad value for a known parameter is a 400 naming the parameter.

The table of accepted names is built once per route; a request costs one parse of the
query string and one `json_format.ParseDict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from gateway.errors import GatewayError, invalid
from gateway.int_patterns import INT_RANGES, canonical, integer_rule
from gateway.json_rules import explain

# Message types whose JSON form is a single string or number: one query parameter each.
# The OpenAPI document lists query parameters by these same rules (gateway/openapi.py).
SCALAR_MESSAGES = frozenset(
    {
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        "google.protobuf.StringValue",
        "google.protobuf.BytesValue",
        "google.protobuf.Int32Value",
        "google.protobuf.Int64Value",
        "google.protobuf.UInt32Value",
        "google.protobuf.UInt64Value",
        "google.protobuf.FloatValue",
        "google.protobuf.DoubleValue",
        "google.protobuf.BoolValue",
    }
)
_BOOL_MESSAGES = frozenset({"google.protobuf.BoolValue"})
_TRUE = frozenset({"true", "True", "TRUE", "t", "T", "1"})
_FALSE = frozenset({"false", "False", "FALSE", "f", "F", "0"})
MAX_DEPTH = 8  # recursive messages stop here


@dataclass(frozen=True, slots=True)
class _Param:
    json_path: tuple[str, ...]  # JSON names from the request message down to the leaf
    repeated: bool
    is_bool: bool
    is_integer: FieldDescriptor | None = None  # the field, when an integer


class QueryBinder:
    """Binds a query string onto a request message of one route."""

    def __init__(self, message: Descriptor, excluded: set[str]) -> None:
        """`excluded`: proto field paths bound elsewhere (path variables, the body field)."""
        self._params: dict[str, _Param] = {}
        self._descriptor = message
        self._collect(message, (), (), excluded, 0)

    def _collect(
        self,
        message: Descriptor,
        proto_path: tuple[str, ...],
        json_path: tuple[str, ...],
        excluded: set[str],
        depth: int,
    ) -> None:
        for field in message.fields:
            proto = (*proto_path, field.name)
            names = (*json_path, field.json_name)
            if ".".join(proto) in excluded or _is_map(field):
                continue
            repeated = _is_repeated(field)
            if field.message_type is not None:
                full_name = field.message_type.full_name
                if full_name not in SCALAR_MESSAGES:
                    if not repeated and depth < MAX_DEPTH:
                        self._collect(field.message_type, proto, names, excluded, depth + 1)
                    continue
                is_bool = full_name in _BOOL_MESSAGES
            else:
                is_bool = field.type == FieldDescriptor.TYPE_BOOL
            integer = field if field.message_type is None and field.type in INT_RANGES else None
            param = _Param(names, repeated, is_bool, integer)
            self._params[".".join(proto)] = param
            self._params.setdefault(".".join(names), param)

    def bind(self, query_string: bytes, message: Message) -> None:
        """Merge the parameters into `message`; raises GatewayError (400) on a bad value."""
        if not query_string:
            return
        tree: dict[str, Any] = {}
        seen: set[str] = set()
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        for key, value in pairs:
            param = self._params.get(key)
            if param is None:
                continue
            if param.is_integer is not None and not canonical(value):
                rule = integer_rule(param.is_integer)
                raise invalid(f"invalid query parameter {key}: {rule}", key)
            converted = _bool(key, value) if param.is_bool else value
            _place(tree, key, param, converted, seen)
        if not tree:
            return
        try:
            json_format.ParseDict(tree, message)
        except json_format.ParseError:
            raise self._culprit(pairs) from None

    def _culprit(self, pairs: list[tuple[str, str]]) -> GatewayError:
        """A 400 naming the first parameter, as sent, whose value breaks its field's rule
        (errors only: json_format's own words are Python's, never shown)."""
        for key, value in pairs:
            param = self._params.get(key)
            if param is None or param.is_bool:
                continue  # bools were checked while placing them
            tree: dict[str, Any] = {}
            _place(tree, key, param, value, set())
            violation = explain(tree, self._descriptor)
            if violation is not None:
                rule = violation.rule
                if param.repeated:  # one value of a repeated parameter broke the rule
                    rule = rule.replace("must be", "each value must be", 1)
                return invalid(f"invalid query parameter {key}: {rule}", key)
        return invalid("invalid query parameters: a value does not fit its field")


def _place(tree: dict[str, Any], key: str, param: _Param, value: Any, seen: set[str]) -> None:
    node = tree
    for name in param.json_path[:-1]:
        node = node.setdefault(name, {})
    leaf = param.json_path[-1]
    if param.repeated:
        node.setdefault(leaf, []).append(value)
        return
    if leaf in node or key in seen:
        raise invalid(f"query parameter {key!r} given more than once", key)
    seen.add(key)
    node[leaf] = value


def _bool(key: str, value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise invalid(f"query parameter {key!r}: {value!r} is not true or false", key)


def _is_repeated(field: FieldDescriptor) -> bool:
    return field.is_repeated


def _is_map(field: FieldDescriptor) -> bool:
    message = field.message_type
    return message is not None and message.GetOptions().map_entry
