"""google.api.http path templates and bindings, read from service descriptors.

Grammar (google/api/http.proto):

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    FieldPath = IDENT { "." IDENT } ;
    Verb     = ":" LITERAL ;

A template compiles to a flat list of segments; each variable covers a contiguous run
of them. `**` matches zero or more segments and may only come last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_to_bytes

from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_LITERAL = re.compile(r"[^/{}*:=]+")
_ANY = "*"
_REST = "**"


class TemplateError(ValueError):
    """A path template that does not follow the google.api.http grammar."""


@dataclass(frozen=True, slots=True)
class _Variable:
    field_path: str
    start: int  # index of its first flat segment
    end: int  # one past its last flat segment
    multi_segment: bool  # more than one segment, or `**`: an encoded "/" stays encoded
    to_end: bool  # ends with `**`: runs to the end of the path


class PathTemplate:
    """A parsed google.api.http path template (see google/api/http.proto grammar)."""

    __slots__ = ("_segments", "_vars", "raw", "variables", "verb")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        body, self.verb = _split_verb(raw)
        self._segments, self._vars = _parse_segments(body, raw)
        self.variables: tuple[str, ...] = tuple(v.field_path for v in self._vars)

    @property
    def segments(self) -> tuple[str, ...]:
        """The flat segments: literals, "*" and "**" (variables expanded)."""
        return self._segments

    def match(self, path: str) -> dict[str, str] | None:
        """Field path -> decoded value when `path` (still percent-encoded) matches."""
        split = SplitPath(path)
        return self.match_split(split) if split.ok else None

    def match_split(self, path: SplitPath) -> dict[str, str] | None:
        """`match` for a path split once, so that a router splits each request once."""
        if self.verb is None:
            parts = path.parts
        elif path.verb == self.verb and path.verb_parts is not None:
            parts = path.verb_parts
        else:
            return None
        if not self._match_segments(parts):
            return None
        return {v.field_path: self._value(v, parts) for v in self._vars}

    def _match_segments(self, parts: list[str]) -> bool:
        segments = self._segments
        if segments and segments[-1] == _REST:
            fixed = len(segments) - 1
            if len(parts) < fixed:
                return False
        elif len(parts) != len(segments):
            return False
        for segment, part in zip(segments, parts, strict=False):
            if segment == _REST:
                return True
            if segment == _ANY:
                if not part:
                    return False
            elif part != segment and ("%" not in part or unquote(part) != segment):
                return False
        return True

    def _value(self, var: _Variable, parts: list[str]) -> str:
        end = len(parts) if var.to_end else var.end
        if not var.multi_segment:
            return unquote(parts[var.start])
        # Multi-segment variables keep an encoded "/" (%2F) encoded, as the spec says.
        return "/".join(_unquote_keeping_slash(p) for p in parts[var.start : end])

    def openapi_path(self) -> str:
        """The path with each variable as `{field.path}`, e.g. /v1/{name}:cancel."""
        out: list[str] = []
        index = 0
        for var in self._vars:
            out.extend(self._segments[index : var.start])
            out.append("{" + var.field_path + "}")
            index = var.end
        out.extend(self._segments[index:])
        verb = "" if self.verb is None else ":" + self.verb
        return "/" + "/".join(out) + verb

    def specificity(self) -> tuple[int, int, int, int]:
        """Sort key, larger is more specific: a verb, literals, no `**`, segment count."""
        literals = sum(1 for s in self._segments if s not in (_ANY, _REST))
        rest = 1 if _REST in self._segments else 0
        return (self.verb is not None, literals, -rest, len(self._segments))

    def __repr__(self) -> str:
        return f"PathTemplate({self.raw!r})"


class SplitPath:
    """A request path split into segments, with and without a trailing `:verb`."""

    __slots__ = ("ok", "parts", "verb", "verb_parts")

    def __init__(self, path: str) -> None:
        self.ok = path.startswith("/")
        self.parts = path[1:].split("/")
        last = self.parts[-1]
        colon = last.rfind(":")
        self.verb: str | None = None
        self.verb_parts: list[str] | None = None
        if colon >= 0:
            self.verb = last[colon + 1 :]
            self.verb_parts = [*self.parts[:-1], last[:colon]]


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def malformed_escape(path: str) -> str | None:
    """Why `path` is not well percent-encoded UTF-8, or None when it is. (unquote would
    pass "%ZZ" through and turn invalid UTF-8 into U+FFFD; grpc-gateway answers 400.)"""
    if "%" not in path:
        return None
    bad = _BAD_ESCAPE.search(path)
    if bad is not None:
        return f"{path[bad.start() : bad.start() + 3]!r} is not a percent-escape"
    try:
        unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        return "its percent-escapes are not UTF-8"
    return None


def _unquote_keeping_slash(part: str) -> str:
    pieces = re.split("(%2[Ff])", part)
    return "".join(p if i % 2 else unquote(p) for i, p in enumerate(pieces))


def _split_verb(raw: str) -> tuple[str, str | None]:
    if not raw.startswith("/"):
        raise TemplateError(f"{raw!r}: a template starts with '/'")
    # A verb follows the last segment; a ':' inside a variable's braces is not one.
    tail = raw[raw.rfind("}") + 1 :] if "}" in raw else raw
    colon = tail.rfind(":")
    if colon < 0:
        return raw, None
    verb = tail[colon + 1 :]
    if not _LITERAL.fullmatch(verb):
        raise TemplateError(f"{raw!r}: bad verb {verb!r}")
    return raw[: len(raw) - len(tail) + colon], verb


def _parse_segments(body: str, raw: str) -> tuple[tuple[str, ...], tuple[_Variable, ...]]:
    segments: list[str] = []
    variables: list[_Variable] = []
    for token in _tokens(body[1:], raw):
        if token.startswith("{"):
            variables.append(_parse_variable(token, len(segments), segments, raw))
        else:
            segments.append(_check_segment(token, raw))
    if _REST in segments[:-1]:
        raise TemplateError(f"{raw!r}: '**' must be the last segment")
    names = [v.field_path for v in variables]
    if len(set(names)) != len(names):
        raise TemplateError(f"{raw!r}: a field is bound twice")
    return tuple(segments), tuple(variables)


def _tokens(text: str, raw: str) -> list[str]:
    """Split on '/' outside braces."""
    tokens: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if depth not in (0, 1):
            raise TemplateError(f"{raw!r}: unbalanced or nested braces")
        if char == "/" and depth == 0:
            tokens.append(current)
            current = ""
        else:
            current += char
    if depth:
        raise TemplateError(f"{raw!r}: unbalanced braces")
    tokens.append(current)
    return tokens


def _check_segment(token: str, raw: str) -> str:
    if token in (_ANY, _REST) or _LITERAL.fullmatch(token):
        return token
    raise TemplateError(f"{raw!r}: bad segment {token!r}")


def _parse_variable(token: str, start: int, segments: list[str], raw: str) -> _Variable:
    if not token.endswith("}"):
        raise TemplateError(f"{raw!r}: bad variable {token!r}")
    inner = token[1:-1]
    field_path, equals, pattern = inner.partition("=")
    if not _IDENT.fullmatch(field_path):
        raise TemplateError(f"{raw!r}: bad field path {field_path!r}")
    parts = pattern.split("/") if equals else [_ANY]
    segments.extend(_check_segment(part, raw) for part in parts)
    multi = len(parts) > 1 or _REST in parts
    return _Variable(field_path, start, len(segments), multi, parts[-1] == _REST)


@dataclass(frozen=True)
class HttpBinding:
    http_method: str  # "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | a custom kind's method
    template: PathTemplate
    body: str  # "" (no body), "*" or a top-level field name
    response_body: str  # "" or a top-level response field name
    method: MethodDescriptor  # the gRPC method this binding calls


def binding_from_rule(rule: http_pb2.HttpRule, method: MethodDescriptor) -> HttpBinding:
    kind = rule.WhichOneof("pattern")
    if kind is None:
        raise TemplateError(f"{method.full_name}: an HttpRule without a pattern")
    if kind == "custom":
        http_method, raw = rule.custom.kind.upper(), rule.custom.path
    else:
        http_method, raw = kind.upper(), getattr(rule, kind)
    _check_body(rule.body, method.input_type, method.full_name)
    _check_body(rule.response_body, method.output_type, method.full_name)
    return HttpBinding(http_method, PathTemplate(raw), rule.body, rule.response_body, method)


def _check_body(name: str, message: object, where: str) -> None:
    fields = getattr(message, "fields_by_name", {})
    if name not in ("", "*") and name not in fields:
        raise TemplateError(f"{where}: body field {name!r} does not exist")


def bindings_for(service: ServiceDescriptor) -> list[HttpBinding]:
    """The primary binding and every additional_binding of each annotated method, in proto order."""
    out: list[HttpBinding] = []
    for method in service.methods:
        options = method.GetOptions()
        if not options.HasExtension(annotations_pb2.http):
            continue
        rule = options.Extensions[annotations_pb2.http]
        out.append(binding_from_rule(rule, method))
        out.extend(binding_from_rule(extra, method) for extra in rule.additional_bindings)
    return out
