"""Routing: areas, the id path parameter, and trailing-slash redirects by path.

Areas are groups of routes with their own rules: a guard (who may enter), then
middleware. Starlette's `Mount` takes every path under its prefix, so two areas
without a prefix of their own (the candidate's pages and the public ones) could
not both be Mounts at "". An `Area` is a Mount that matches only the paths of
its own routes, so areas are tried in turn like routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import URLPath
from starlette.middleware import Middleware
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound, Router
from starlette.types import Receive, Scope, Send

from portal.db import MAX_ID
from portal.security.token_paths import route_path


def _numbers_up_to(limit: int) -> str:
    """A regular expression matching the numbers from 1 to `limit`, written without
    leading zeros: shorter numbers, then each digit of `limit` in turn lowered."""
    digits = str(limit)
    shorter = f"[1-9][0-9]{{0,{len(digits) - 2}}}" if len(digits) > 1 else ""
    same_length = []
    for place, digit in enumerate(digits):
        lowest = 1 if place == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - place - 1
            same_length.append(f"{digits[:place]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}")
    alternatives = [shorter, *same_length, digits] if shorter else [*same_length, digits]
    return "(?:" + "|".join(alternatives) + ")"


class IdConvertor(Convertor[int]):
    """`{name:id}`: a record's id, 1 to the largest the id columns hold. Any other
    number matches no route, so it is a 404 before a handler runs (sent to the
    database it would be an error, not a miss)."""

    regex = _numbers_up_to(MAX_ID)

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        # Links are built with placeholder ids too (portal.web.path_for).
        return str(int(value))


register_url_convertor("id", IdConvertor())


class PathRouter(Router):
    """A router that answers a path it lacks, whose twin with (or without) a trailing
    slash it has, with a redirect to that twin by path. Starlette's own redirect is an
    absolute URL built from the Host header, which the client chooses.

    Links are built by route name from an index of the names, made on first use:
    Starlette's own look-up tries the routes one after the other, each refusing a
    name not its own with an exception, which cost a page about 40 µs per link.
    The routes of a router do not change once it serves.
    """

    def __init__(self, routes: Sequence[BaseRoute] | None = None, **kwargs: Any) -> None:
        super().__init__(routes, redirect_slashes=False, **kwargs)
        self.default = self._to_twin_or_not_found
        self._by_name: dict[str, list[tuple[str, BaseRoute]]] | None = None

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if self._by_name is None:
            self._by_name = _names(self.routes)
        for prefix, route in self._by_name.get(name, ()):
            try:
                found = route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
            return URLPath(prefix + found, found.protocol)
        # Under a Mount whose path has parameters, or not a route of this router.
        return super().url_path_for(name, **path_params)

    async def _to_twin_or_not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        twin = self._twin(scope)
        if twin is None:
            await self.not_found(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = twin + (f"?{query}" if query else "")
        await RedirectResponse(target, status_code=307)(scope, receive, send)

    def _twin(self, scope: Scope) -> str | None:
        """The path with its trailing slash removed (or one added), if a route takes it."""
        if scope["type"] != "http" or route_path(scope) == "/":
            return None
        path: str = scope["path"]
        twin = path.rstrip("/") if path.endswith("/") else path + "/"
        # Never "//host": a path the browser would read as another site.
        if not twin.startswith("/") or twin.startswith("//"):
            return None
        twin_scope = {**scope, "path": twin}
        if any(route.matches(twin_scope)[0] is not Match.NONE for route in self.routes):
            return twin
        return None


@dataclass(frozen=True)
class Guard:
    """Who may enter an area: `name` and `who` say so for people (the docs, the test
    that every route has one), `middleware` makes it so (none for an area open to
    anyone). The guards themselves are in `portal.auth.areas`.

    A guard middleware class with `sees_routes = True` is given the area's routes
    (`routes=`), to find the one a refused request was for (`keeper_for`)."""

    name: str
    who: str
    middleware: Sequence[Middleware] = ()

    def bound_to(self, routes: Sequence[BaseRoute]) -> list[Middleware]:
        with_routes: dict[str, Any] = {"routes": routes}
        return [
            Middleware(entry.cls, *entry.args, **entry.kwargs, **with_routes)
            if getattr(entry.cls, "sees_routes", False)
            else entry
            for entry in self.middleware
        ]


# What a handler keeps of a form posted after its writer's session ended: called by
# the area's guard with the request and the ended session's owner, it answers
# whether it kept anything (see portal.auth.kept).
Keeper = Callable[..., Awaitable[bool]]
_KEEPER = "keeps_typed"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def keeps_typed(keeper: Keeper) -> Callable[[Endpoint], Endpoint]:
    """Mark a handler whose form holds writing: when its area's guard refuses a post
    because the session ended, `keeper` keeps what was typed first."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _KEEPER, keeper)
        return endpoint

    return mark


def keeper_for(routes: Sequence[BaseRoute], scope: Scope) -> tuple[Keeper, Scope] | None:
    """The keeper of the route among `routes` that takes this request whole, if it
    has one, with the scope the route would give its handler (its path parameters)."""
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.FULL:
            keeper: Keeper | None = getattr(getattr(route, "endpoint", None), _KEEPER, None)
            if keeper is None:
                return None
            return keeper, {**scope, **child_scope}
    return None


# In the scope of a request an area takes only in part (its path, not its method).
_WRONG_METHOD = "portal.wrong_method"


class Area(Mount):
    """A group of routes with its own rules: its `guard` first (who may enter), then
    its own `middleware`. At a `path` of its own (the API) or, by default, at none.

    A request whose path is the area's but whose method none of its routes takes is
    answered 405 by the area's router without passing the guard: no handler runs,
    and the answer is the same for everyone, as it is in areas open to anyone."""

    def __init__(
        self,
        routes: Sequence[BaseRoute],
        *,
        guard: Guard,
        middleware: Sequence[Middleware] = (),
        path: str = "",
        name: str | None = None,
    ) -> None:
        router = PathRouter(routes)
        # The guard sees the router's own list of routes: the ones it routes to.
        super().__init__(
            path,
            app=router,
            name=name,
            middleware=[*guard.bound_to(router.routes), *middleware],
        )
        self.guard = guard

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
        if found is Match.PARTIAL:
            return found, {**child_scope, _WRONG_METHOD: True}
        return found, child_scope

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.pop(_WRONG_METHOD, False):
            await self._base_app(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _names(routes: Sequence[BaseRoute], prefix: str = "") -> dict[str, list[tuple[str, BaseRoute]]]:
    """Each route name, with the routes of that name in the order Starlette tries
    them, and the path of the Mounts around each. Routes under a Mount whose path
    has parameters are left to Starlette's own look-up."""
    found: dict[str, list[tuple[str, BaseRoute]]] = {}
    for route in routes:
        name = getattr(route, "name", None)
        if name is not None:
            found.setdefault(name, []).append((prefix, route))
        if isinstance(route, Mount) and route.routes and "{" not in route.path:
            for inner_name, entries in _names(route.routes, prefix + route.path).items():
                found.setdefault(inner_name, []).extend(entries)
    return found


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


_SCOPE = "api_scope"


def needs_scope(scope: str) -> Callable[[Endpoint], Endpoint]:
    """Mark an API handler with the key scope it needs (`portal.api.models.ApiScope`):
    the API area's guard refuses a key without it (403) before the handler runs, and
    refuses any route that declares none."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _SCOPE, scope)
        return endpoint

    return mark


def scope_needed(routes: Sequence[BaseRoute], scope: Scope) -> str | None:
    """The key scope the route among `routes` that takes this request needs, or None
    when it declares none (or no route takes the request)."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            needed: str | None = getattr(getattr(route, "endpoint", None), _SCOPE, None)
            return needed
    return None
