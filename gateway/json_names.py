"""One field, one name: a request body may name a field by its proto name (`workflow_name`)
or its JSON name (`workflowName`), but not by both in the same object.

`json_format` takes both and lets the later one win silently, so which value the server
gets would depend on key order; the gateway answers a 400 naming the field instead.
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway.errors import invalid
from gateway.int_patterns import INT_RANGES, canonical, integer_rule

_FLOATS = frozenset({FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE})
FLOAT_WORDS = ("NaN", "Infinity", "-Infinity")
FLOAT_RULE = 'must be a number (or "NaN", "Infinity", "-Infinity")'


def _json_float(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return value is None or isinstance(value, int | float) or value in FLOAT_WORDS


# Well-known types have their own JSON forms (strings, free-form objects): no field names.
_WELL_KNOWN = "google.protobuf."


def check_field_names(
    document: Any, descriptor: Descriptor, prefix: str = "", sent: str = ""
) -> None:
    """Raise a 400 if an object of `document` names one field twice, or gives an integer
    as a string that is not canonical; recurse into messages. `prefix` is the path by
    proto names, `sent` the same path as the client wrote it."""
    if not isinstance(document, dict) or descriptor.full_name.startswith(_WELL_KNOWN):
        return
    seen: dict[str, str] = {}
    for key, value in document.items():
        field = descriptor.fields_by_name.get(key) or _by_json_name(descriptor, key)
        if field is None:
            continue  # json_format reports unknown fields
        path = prefix + field.name
        if field.name in seen:
            raise invalid(
                f'the request body gives the field {path} twice, as "{seen[field.name]}" '
                f'and as "{key}"',
                path,
            )
        seen[field.name] = key
        _check_value(value, field, path, sent + key)


def _check_value(value: Any, field: FieldDescriptor, path: str, sent: str) -> None:
    message = field.message_type
    if message is None:
        if field.type in _FLOATS and not _json_float(value):
            # json_format also reads true and "1.5" as numbers; proto3 JSON's forms are a
            # number or one of three words, and the document promises only those.
            raise invalid(f"invalid request body: {sent}: {FLOAT_RULE}", sent)
        if isinstance(value, str) and field.type in INT_RANGES and not canonical(value):
            # json_format also reads "1e2", "3.0" and "007"; the document promises only
            # canonical decimals (gateway/int_patterns.py), so the gateway takes no more.
            raise invalid(f"invalid request body: {sent}: {integer_rule(field)}", sent)
        return
    if message.GetOptions().map_entry:
        entry = message.fields_by_name["value"].message_type
        if entry is not None and isinstance(value, dict):
            for key, item in value.items():
                check_field_names(item, entry, f"{path}[{key}].", f"{sent}[{key}].")
        return
    if field.is_repeated:
        for index, item in enumerate(value if isinstance(value, list) else ()):
            check_field_names(item, message, f"{path}[{index}].", f"{sent}[{index}].")
        return
    check_field_names(value, message, f"{path}.", f"{sent}.")


def _by_json_name(descriptor: Descriptor, key: str) -> FieldDescriptor | None:
    return _json_names(descriptor).get(key)


@functools.cache
def _json_names(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    """JSON name -> field, once per message type (this runs on every request body)."""
    return {field.json_name: field for field in descriptor.fields}
