"""One route's request and response transcoding: HTTP (path, query, JSON body) -> the
request message, and the response message -> proto3 JSON.

Everything that depends only on the binding (the message class, the path-field
setters, the query table) is computed once, when the route is built.

- Body: `body: "*"` parses the JSON object into the whole request; `body: "field"`
  into that field; without `body`, a non-empty request body is a 400. The JSON goes
  through `json_format` with unknown fields rejected, so a 400 names the bad field.
  A body that is not JSON by its Content-Type is a 415; malformed JSON is a 400, and so
  is JSON that Python would accept but the JSON standard does not (bare NaN/Infinity),
  that is ambiguous (a duplicate key; one field under both its proto and JSON names),
  or that is nested too deeply to parse.
- Path variables are set last and win over the same field in the body.
- Responses are proto3 JSON: camelCase names, int64 as strings, fields at their default
  value omitted (as protojson and json_format do by default; grpc-gateway v2's default
  marshaler differs here: it sets EmitUnpopulated and prints them), or only
  `response_body` when the rule names it; rendered by gateway/render.py, which agrees
  with json_format (integral numbers in Struct/Value print as integers) and is faster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from gateway.errors import GatewayError, invalid
from gateway.http_rule import HttpBinding, TemplateError
from gateway.json_names import check_field_names
from gateway.json_rules import explain, explain_value
from gateway.query import QueryBinder
from gateway.render import to_json

Setter = Callable[[Message, str], None]


class RequestBuilder:
    """Builds the request message of one binding from the parts of an HTTP request."""

    def __init__(self, binding: HttpBinding) -> None:
        descriptor = binding.method.input_type
        self._cls: type[Message] = message_factory.GetMessageClass(descriptor)
        self._descriptor: Descriptor = descriptor
        self._body = binding.body
        self._setters = tuple(
            (path, _path_setter(descriptor, path)) for path in binding.template.variables
        )
        self._body_field = _body_json_name(descriptor, binding.body)
        excluded = set(binding.template.variables)
        if binding.body not in ("", "*"):
            excluded.add(binding.body)
        self.query = None if binding.body == "*" else QueryBinder(descriptor, excluded)

    @property
    def message_class(self) -> type[Message]:
        return self._cls

    def build(
        self,
        path_values: dict[str, str],
        query_string: bytes,
        body: bytes,
        content_type: str | None,
    ) -> Message:
        request = self._cls()
        if body.strip():
            self._parse_body(request, body, content_type)
        if self.query is not None:
            self.query.bind(query_string, request)
        for path, setter in self._setters:
            setter(request, path_values[path])
        return request

    def _parse_body(self, request: Message, body: bytes, content_type: str | None) -> None:
        if not self._body:
            raise invalid("this route takes no request body; send parameters in the query")
        check_json_content_type(content_type)
        document = parse_json(body)
        if self._body_field is not None:
            document = {self._body_field: document}
        elif not isinstance(document, dict):
            raise invalid("the request body must be a JSON object")
        check_field_names(document, self._descriptor)
        try:
            json_format.ParseDict(document, request)
        except json_format.ParseError as exc:
            raise _body_error(exc, document, self._descriptor) from None
        except RecursionError:
            raise _too_deep() from None


class ResponseWriter:
    """Renders a response message (or its `response_body` field) as JSON bytes."""

    def __init__(self, binding: HttpBinding) -> None:
        self._field = binding.response_body or None

    def render(self, response: Message) -> bytes:
        field = self._field
        payload = to_json(response) if field is None else _field_json(response, field)
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _field_json(response: Message, name: str) -> Any:
    field = response.DESCRIPTOR.fields_by_name[name]
    if field.message_type is not None and not field.is_repeated:
        return to_json(getattr(response, name))
    # A scalar or a list: render the message with defaults, then take the field out.
    wrapper = json_format.MessageToDict(response, always_print_fields_with_no_presence=True)
    return wrapper.get(field.json_name)


def check_json_content_type(content_type: str | None) -> None:
    if content_type is None:
        return  # a client that names no type is taken to send JSON, as grpc-gateway does
    media, *parameters = (part.strip() for part in content_type.split(";"))
    media = media.lower()
    if not (
        media == "application/json"
        or (media.startswith("application/") and media.endswith("+json"))
    ):
        raise _unsupported(
            f"Content-Type {media or '(empty)'!r} is not supported; send application/json",
            media,
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in _UTF8_NAMES:
            # RFC 8259 §8.1: JSON exchanged between systems is UTF-8, and nothing else.
            raise _unsupported(
                f"charset {charset!r} is not supported: JSON is UTF-8 (RFC 8259); send "
                "application/json, or application/json; charset=utf-8",
                content_type.strip(),
            )


_UTF8_NAMES = frozenset({"utf-8", "utf8"})


def _unsupported(message: str, content_type: str) -> GatewayError:
    return GatewayError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "UNSUPPORTED_MEDIA_TYPE",
        message,
        http_status=415,
        metadata={"content_type": content_type},
    )


def parse_json(body: bytes) -> Any:
    """The JSON document of a request body; a 400 for anything but standard JSON."""
    text = _utf8(body)
    try:
        return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise invalid(f"the request body is not valid JSON: {exc}") from None


# A UTF-16 or UTF-32 text starts with a byte order mark or has a zero byte among its
# first four (JSON text starts with an ASCII character): RFC 8259 §8.1 detection.
_WIDE_MARKS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def _utf8(body: bytes) -> str:
    """The body as UTF-8 text (json.loads would take UTF-16 and UTF-32 too)."""
    if body.startswith(_WIDE_MARKS) or b"\x00" in body[:4]:
        raise _unsupported(
            "the request body is UTF-16 or UTF-32: JSON is UTF-8 (RFC 8259)",
            "application/json",
        )
    try:
        return body.decode("utf-8-sig")  # a byte order mark is ignored, as RFC 8259 allows
    except UnicodeDecodeError as exc:
        raise invalid(
            f"the request body is not valid UTF-8 (byte {exc.start}); JSON is UTF-8"
        ) from None


def _no_constant(token: str) -> Any:
    # Python's json reads NaN, Infinity and -Infinity; JSON has no such tokens (proto3
    # JSON spells them as the strings "NaN", "Infinity" and "-Infinity").
    raise invalid(f"the request body is not valid JSON: bare {token} (quote it as a string)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise invalid(f'the request body has the key "{key}" more than once', key)
            seen.add(key)
    return document


def _too_deep() -> GatewayError:
    return invalid("the request body is nested too deeply")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


# json_format's words for an unknown field; the rest of its messages read well as they are.
_UNKNOWN_FIELD = re.compile(r'has no field named "([^"]+)" at "([^"]*)"')


def _body_error(
    exc: json_format.ParseError, document: dict[str, Any], descriptor: Descriptor
) -> GatewayError:
    unknown = _UNKNOWN_FIELD.search(_one_line(exc))
    if unknown is not None:
        name, where = unknown.groups()
        return invalid(f'invalid request body: unknown field "{name}" in {where}', name)
    violation = explain(document, descriptor)
    if violation is None:  # json_format's words are Python's: never shown
        return invalid("invalid request body: a value does not fit its field")
    return invalid(f"invalid request body: {violation}", violation.field)


def _body_json_name(descriptor: Descriptor, body: str) -> str | None:
    if body in ("", "*"):
        return None
    field: FieldDescriptor = descriptor.fields_by_name[body]
    return field.json_name


def _path_setter(descriptor: Descriptor, path: str) -> Setter:
    """A setter for a path variable's field, resolved once per route."""
    names = path.split(".")
    message = descriptor
    for name in names[:-1]:
        parent = message.fields_by_name.get(name)
        if parent is None or parent.message_type is None or parent.is_repeated:
            raise TemplateError(f"{descriptor.full_name}: cannot bind path field {path!r}")
        message = parent.message_type
    leaf = message.fields_by_name.get(names[-1])
    if leaf is None or leaf.is_repeated or leaf.type == FieldDescriptor.TYPE_MESSAGE:
        raise TemplateError(f"{descriptor.full_name}: cannot bind path field {path!r}")
    convert = _converter(leaf, path)
    parents, attr = names[:-1], names[-1]

    def set_field(request: Message, value: str) -> None:
        target: Any = request
        for name in parents:
            target = getattr(target, name)
        setattr(target, attr, convert(value))

    return set_field


def _converter(field: FieldDescriptor, path: str) -> Callable[[str], Any]:
    if field.type == FieldDescriptor.TYPE_STRING:
        return str
    assert field.containing_type is not None
    probe = message_factory.GetMessageClass(field.containing_type)

    def convert(value: str) -> Any:
        # json_format knows every scalar's text form (ints, floats, enums by name or
        # number, bools, base64 bytes); a throwaway message does the checking.
        scratch = probe()
        document: Any = value
        try:
            if field.type == FieldDescriptor.TYPE_BOOL:
                document = {"true": True, "false": False}.get(value, value)
            json_format.ParseDict({field.json_name: document}, scratch)
        except json_format.ParseError:
            violation = explain_value(document, field, path)
            rule = violation.rule if violation else "is not a valid value"
            raise invalid(f"path parameter {path}: {rule}", path) from None
        return getattr(scratch, field.name)

    return convert
