"""Areas: groups of routes with their own rules (who may enter, middleware).

Starlette's `Mount` takes every path under its prefix, so two areas without a
prefix of their own (the candidate's pages and the public ones) could not both
be Mounts at "". An `Area` is a Mount at "" that matches only the paths of its
own routes, so areas are tried in turn like routes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope


class Area(Mount):
    def __init__(
        self, routes: Sequence[BaseRoute], *, middleware: Sequence[Middleware] | None = None
    ) -> None:
        super().__init__("", routes=routes, middleware=middleware)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.NONE:
            return match, child_scope
        inner = {**scope, **child_scope}
        found = Match.NONE
        for route in self.routes:
            route_match, _ = route.matches(inner)
            if route_match is Match.FULL:
                return Match.FULL, child_scope
            if route_match is Match.PARTIAL:
                # The path is ours but not the method: 405, unless a later route
                # (in another area) takes the request whole.
                found = Match.PARTIAL
        return found, child_scope


def walk_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every endpoint route with its full path, through Mounts and Areas."""
    for route in routes:
        if isinstance(route, Mount):
            inner = getattr(route, "routes", None)
            if inner:
                yield from walk_routes(inner, prefix + route.path)
            else:
                yield prefix + route.path, route
        else:
            yield prefix + getattr(route, "path", ""), route
