"""Absolute URLs of named routes, for the links that leave the site (email).

A page builds its links with `url_for` from the request; an email is written by a
service or a job, with no request at hand, so it asks here, by the same route
name: `absolute_url(settings, "candidate.link", token=token)`. The paths come
from the app's own route table, which each entry point hands over once
(`use_routes`: `create_app`, and the commands that write email without serving),
so a route that moves takes its email links along.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Router

from portal.settings import Settings

_router: Router | None = None


def use_routes(routes: Sequence[BaseRoute]) -> None:
    """Build links from `routes`, the app's route table, in this process."""
    global _router
    _router = Router(list(routes))


def absolute_url(settings: Settings, name: str, /, *, fragment: str = "", **params: Any) -> str:
    """The public address of the route called `name` with `params`, on
    `PORTAL_BASE_URL`, with an optional `#fragment`."""
    if _router is None:
        raise RuntimeError("no route table yet: call portal.urls.use_routes(route_table())")
    path = str(_router.url_path_for(name, **params))
    return f"{settings.base_url}{path}" + (f"#{fragment}" if fragment else "")
