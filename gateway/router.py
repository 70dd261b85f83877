"""Picks the binding for an HTTP method and path, unambiguously.

When several templates match a path, the most specific wins, decided once at start-up
by sorting: a template with a custom verb (`:cancel`) beats one without; then more
literal segments beat fewer (`/v1/runs/latest` beats `/v1/runs/{id}`); then a template
without `**` beats one with it; then more segments beat fewer; then proto order. Two
bindings with the same HTTP method and the same template shape are a start-up error.

A path ending in a verb that a route defines (`:cancel`) is that custom method's alone:
a template without a verb does not match it. A path that matches only under other HTTP
methods is a 405 naming the allowed ones;
a path that matches nothing is a 404. A path with a malformed percent-escape (`%ZZ`, or
escapes that are not UTF-8) is a 400 before any matching, as in grpc-gateway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import grpc

from gateway.errors import GatewayError, invalid
from gateway.http_rule import HttpBinding, SplitPath, TemplateError, malformed_escape


class Routable(Protocol):
    @property
    def binding(self) -> HttpBinding: ...


R = TypeVar("R", bound=Routable)


@dataclass(frozen=True, slots=True)
class Found(Generic[R]):
    route: R
    path_values: dict[str, str]


class Router(Generic[R]):
    def __init__(self, routes: Sequence[R]) -> None:
        ordered = sorted(
            enumerate(routes), key=lambda item: (_key(item[1]), -item[0]), reverse=True
        )
        self._routes = tuple(route for _, route in ordered)
        self._by_method: dict[str, tuple[R, ...]] = {}
        for route in self._routes:
            method = route.binding.http_method
            self._by_method[method] = (*self._by_method.get(method, ()), route)
        _reject_duplicates(self._routes)
        self._verb_routes = tuple(r for r in self._routes if r.binding.template.verb is not None)
        self._verbs = frozenset(r.binding.template.verb for r in self._verb_routes)

    @property
    def routes(self) -> tuple[R, ...]:
        """Every route, most specific first."""
        return self._routes

    def find(self, http_method: str, path: str) -> Found[R]:
        """The route for a request; raises GatewayError 400, 404 or 405."""
        malformed = malformed_escape(path)
        if malformed is not None:
            raise invalid(f"malformed path {path}: {malformed}")
        split = SplitPath(path)
        # A path ending in a verb the API defines (`…/runs/{id}:cancel`) names that custom
        # method's resource: a template without a verb does not claim it as a variable
        # value, so another HTTP method on it is a 405 allowing only the custom method's.
        verbed = split.verb is not None and split.verb in self._verbs
        candidates = self._routes if not verbed else self._verb_routes
        if split.ok:
            for route in self._by_method.get(http_method, ()):
                if verbed and route.binding.template.verb is None:
                    continue
                values = route.binding.template.match_split(split)
                if values is not None:
                    return Found(route, values)
        matching = (r for r in candidates if r.binding.template.match(path) is not None)
        allowed = sorted({r.binding.http_method for r in matching})
        if allowed:
            raise GatewayError(
                grpc.StatusCode.UNIMPLEMENTED,
                "METHOD_NOT_ALLOWED",
                f"method {http_method} is not allowed on {path}; allowed: {', '.join(allowed)}",
                http_status=405,
                metadata={"allow": ", ".join(allowed)},
            )
        raise GatewayError(
            grpc.StatusCode.NOT_FOUND,
            "ROUTE_NOT_FOUND",
            f"no route for {http_method} {path}",
            metadata={"path": path},
        )


def _key(route: Routable) -> tuple[int, int, int, int]:
    return route.binding.template.specificity()


def _reject_duplicates(routes: Sequence[Routable]) -> None:
    seen: dict[tuple[str, tuple[str, ...], str | None], str] = {}
    for route in routes:
        template = route.binding.template
        shape = (route.binding.http_method, template.segments, template.verb)
        if shape in seen:
            raise TemplateError(
                f"ambiguous routes: {route.binding.http_method} {template.raw} and {seen[shape]}"
            )
        seen[shape] = template.raw
