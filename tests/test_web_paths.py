"""Links to records: paths under the app's root path, the same as Starlette's."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route

from portal.web import path_for


async def _noop(request: Request) -> None:
    return None


def _request(app: Starlette, root_path: str = "") -> Request:
    return Request({"type": "http", "app": app, "router": app.router, "root_path": root_path})


def test_paths_with_ids_match_starlettes_own() -> None:
    app = Starlette(
        routes=[
            Route("/feedback/{application_id:int}", _noop, name="feedback"),
            Mount(
                "/staff",
                routes=[
                    Route("/queue/{thread_id:int}/messages/{message_id:int}", _noop, name="m"),
                    Route("/people/{staff_user_id:int}", _noop, name="person"),
                ],
            ),
        ]
    )
    request = _request(app)
    for ids in ({"thread_id": 7, "message_id": 70}, {"thread_id": 0, "message_id": 2**31 - 1}):
        assert path_for(request, "m", **ids) == app.url_path_for("m", **ids)
    for n in (1, 12, 907310000):
        assert path_for(request, "feedback", application_id=n) == f"/feedback/{n}"
        assert path_for(request, "person", staff_user_id=n) == f"/staff/people/{n}"
    assert path_for(_request(app, "/portal"), "feedback", application_id=3) == "/portal/feedback/3"


def test_the_portals_router_builds_every_named_path_as_starlettes_own_does() -> None:
    """`PathRouter` looks names up in an index; every route of the portal, however
    deep in areas and mounts, gets the path Starlette's own look-up gives."""
    from starlette.routing import NoMatchFound, Router

    from portal.app import route_table
    from portal.routing import PathRouter, walk_routes

    routes = route_table()
    ours, theirs = PathRouter(routes), Router(routes)
    checked = 0
    for _, route in walk_routes(routes):
        name = getattr(route, "name", None)
        if name is None:
            continue
        params: dict[str, object] = {p: 7 for p in getattr(route, "param_convertors", {})}
        if isinstance(route, Mount):
            params = {"path": "app.css"}
        if "token" in params:
            params["token"] = "abc"
        try:
            expected = theirs.url_path_for(name, **params)
        except NoMatchFound:
            continue
        assert ours.url_path_for(name, **params) == expected, name
        checked += 1
    assert checked > 50
    # A name no route has is refused as Starlette refuses it.
    with pytest.raises(NoMatchFound):
        ours.url_path_for("no.such.route")
    with pytest.raises(NoMatchFound):
        ours.url_path_for("candidate.feedback", wrong=1)
