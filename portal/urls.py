"""Absolute URLs of named routes, for the links that leave the site (email).

A page builds its links with `url_for` from the request; an email is written by a
service or a job, with no request at hand, so it asks here, by the same route
name: `absolute_url(settings, "candidate.link", token=token)`. The path comes from
the app's own route table, so a route that moves takes its email links along.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.routing import Router

from portal.settings import Settings


@functools.cache
def _router() -> Router:
    # Late and once: the route table imports every domain, some of which write email.
    from portal.app import route_table

    return Router(route_table())


def absolute_url(settings: Settings, name: str, /, *, fragment: str = "", **params: Any) -> str:
    """The public address of the route called `name` with `params`, on
    `PORTAL_BASE_URL`, with an optional `#fragment`."""
    path = str(_router().url_path_for(name, **params))
    return f"{settings.base_url}{path}" + (f"#{fragment}" if fragment else "")
