"""Every route is in one area whose guard says who may enter; handlers take the actor
their area let in and never check it themselves."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from portal.api.models import ApiScope
from portal.auth.areas import (
    ADMIN,
    API,
    CANDIDATE,
    GUARDS,
    PUBLIC,
    SIGNED,
    STAFF,
    admin_of,
    api_client_of,
    candidate_of,
    staff_of,
)
from portal.routing import Area, Guard, needs_scope
from tests.api_support import auth, make_key
from tests.factories import csrf_token, make_staff, make_world, open_session

Sessions = async_sessionmaker[AsyncSession]
COOKIE = "afterword_session"


def _endpoints(
    routes: Sequence[BaseRoute], prefix: str = "", areas: tuple[Area, ...] = ()
) -> Iterator[tuple[str, BaseRoute, tuple[Area, ...]]]:
    """Every endpoint (a route, or a Mount of an app such as the static files), with
    its full path and the areas it is in, outermost first."""
    for route in routes:
        inside = (*areas, route) if isinstance(route, Area) else areas
        inner = getattr(route, "routes", None) if isinstance(route, Mount) else None
        if inner:
            yield from _endpoints(inner, prefix + getattr(route, "path", ""), inside)
        elif not isinstance(route, Area):  # an area with no routes yet (the API) is no endpoint
            yield prefix + getattr(route, "path", ""), route, inside


def _outside_one_area(routes: Sequence[BaseRoute]) -> list[str]:
    """The endpoints not in exactly one area with a declared guard."""
    return [
        f"{path} in {len(areas)} areas"
        for path, _, areas in _endpoints(routes)
        if len(areas) != 1 or areas[0].guard not in GUARDS
    ]


def _area(app: Starlette, guard: Guard) -> Area:
    return next(area for _, _, (area,) in _endpoints(app.routes) if area.guard is guard)


async def test_every_route_is_in_exactly_one_area_with_a_guard(app: Starlette) -> None:
    assert _outside_one_area(app.routes) == []
    guarded = {
        getattr(route, "name", None): areas[0].guard for _, route, areas in _endpoints(app.routes)
    }
    assert guarded["candidate.feedback"].name == "candidate"
    assert guarded["candidate.applications"] is CANDIDATE
    assert guarded["candidate.link_confirm"] is PUBLIC
    assert guarded["pool.leave"] is PUBLIC
    assert guarded["staff.signin"] is PUBLIC
    assert guarded["staff.invitation_accept"] is PUBLIC
    assert guarded["staff.queue"] is STAFF
    assert guarded["staff.pool_settings"] is ADMIN
    assert guarded["staff.audit"] is ADMIN
    # The API: every route under /api/v1 needs a key, and declares the scope it needs;
    # but the incoming webhooks, each checking its sender's signature instead.
    api_routes = [
        (path, route)
        for path, route, _ in _endpoints(app.routes)
        if path.startswith("/api/v1/")
        and path != "/api/v1/openapi.json"
        and not path.startswith("/api/v1/hooks/")
    ]
    assert guarded["api.hook"] is SIGNED
    # The OpenAPI document holds no organization's data: open to anyone.
    assert guarded["api.openapi"] is PUBLIC
    assert len(api_routes) >= 11
    for path, route in api_routes:
        assert isinstance(route, Route)
        assert guarded[route.name] is API, path
        assert getattr(route.endpoint, "api_scope", "") in {s.value for s in ApiScope}, path


def test_a_route_outside_an_area_is_found() -> None:
    async def page(request: Request) -> Response:
        return PlainTextResponse("")

    loose = Route("/loose", page)
    assert _outside_one_area([Area([Route("/in", page)], guard=PUBLIC)]) == []
    assert _outside_one_area([loose]) == ["/loose in 0 areas"]
    nested = Area([Area([Route("/twice", page)], guard=STAFF)], guard=PUBLIC)
    assert _outside_one_area([nested]) == ["/twice in 2 areas"]
    unknown = Area([Route("/who", page)], guard=Guard("who knows", "nobody said"))
    assert _outside_one_area([unknown]) == ["/who in 1 areas"]


async def _as(client: httpx.AsyncClient, sessions: Sessions, **who: int) -> None:
    client.cookies.clear()
    if who:
        client.cookies.set(COOKIE, await open_session(sessions, **who))


async def test_a_new_admin_page_is_hidden_from_recruiters_without_a_check_of_its_own(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    async def secret(request: Request) -> Response:
        return PlainTextResponse(f"for {admin_of(request).name}")

    _area(app, ADMIN).routes.append(Route("/secret", secret, name="staff.secret"))
    world = await make_world(sessions)
    recruiter = await make_staff(sessions, organization_id=world.organization_id)
    admin = await make_staff(
        sessions,
        organization_id=world.organization_id,
        email="ann@acme.example",
        name="Ann Admin",
        role="admin",
    )
    await _as(client, sessions, staff_user_id=admin)
    assert (await client.get("/staff/secret")).text == "for Ann Admin"
    await _as(client, sessions, staff_user_id=recruiter)
    refused = await client.get("/staff/secret")
    assert refused.status_code == 404 and "Page not found" in refused.text
    await _as(client, sessions, candidate_id=world.candidate_id)
    assert (await client.get("/staff/secret")).headers["location"] == "/staff/signin"
    await _as(client, sessions)
    anonymous = await client.get("/staff/secret", headers={"hx-request": "true"})
    # htmx: a message in the page's message area, never the sign-in page in a fragment.
    assert anonymous.status_code == 401 and anonymous.headers["hx-retarget"] == "#session-message"
    assert 'href="/staff/signin"' in anonymous.text


async def test_a_new_staff_page_lets_in_staff_only(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    async def desk(request: Request) -> Response:
        return PlainTextResponse(f"desk of {staff_of(request).name}")

    _area(app, STAFF).routes.append(Route("/desk", desk, name="staff.desk"))
    world = await make_world(sessions)
    recruiter = await make_staff(sessions, organization_id=world.organization_id, name="Sam")
    await _as(client, sessions, staff_user_id=recruiter)
    assert (await client.get("/staff/desk")).text == "desk of Sam"
    await _as(client, sessions, candidate_id=world.candidate_id)
    assert (await client.get("/staff/desk")).headers["location"] == "/staff/signin"


async def test_a_new_api_route_needs_a_key_with_the_scope_it_declares(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    @needs_scope("pool:read")
    async def scoped(request: Request) -> Response:
        return PlainTextResponse(f"key {api_client_of(request).key_id}")

    async def undeclared(request: Request) -> Response:
        return PlainTextResponse("should never run")

    area = _area(app, API)
    area.routes.append(Route("/scoped", scoped, name="api.scoped"))
    area.routes.append(Route("/undeclared", undeclared, name="api.undeclared"))
    world = await make_world(sessions)
    every = await make_key(sessions, world.organization_id)
    reader = await make_key(sessions, world.organization_id, scopes=["applications:read"])
    staff = await make_staff(sessions, organization_id=world.organization_id, role="admin")
    assert (await client.get("/api/v1/scoped", headers=auth(every))).text.startswith("key ")
    assert (await client.get("/api/v1/scoped", headers=auth(reader))).status_code == 403
    # A route that declares no scope runs for no key: the area fails closed.
    assert (await client.get("/api/v1/undeclared", headers=auth(every))).status_code == 403
    await _as(client, sessions, staff_user_id=staff)
    assert (await client.get("/api/v1/scoped")).status_code == 401


async def test_a_new_candidate_page_asks_everyone_else_to_sign_in(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    async def mine(request: Request) -> Response:
        return PlainTextResponse(f"for {candidate_of(request).name}")

    _area(app, CANDIDATE).routes.append(Route("/mine", mine, name="candidate.mine"))
    world = await make_world(sessions, name="Ada Quill")
    staff = await make_staff(sessions, organization_id=world.organization_id)
    await _as(client, sessions, candidate_id=world.candidate_id)
    assert (await client.get("/mine")).text == "for Ada Quill"
    for who in ({}, {"staff_user_id": staff}):
        await _as(client, sessions, **who)
        refused = await client.get("/mine")
        assert refused.status_code == 401 and "Get a sign-in link" in refused.text


async def test_a_method_no_route_of_an_area_takes_is_405_for_everyone(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """No handler runs, so no guard is needed; and the answer says the same to all."""
    world = await make_world(sessions)
    recruiter = await make_staff(sessions, organization_id=world.organization_id)
    for who in ({}, {"candidate_id": world.candidate_id}, {"staff_user_id": recruiter}):
        await _as(client, sessions, **who)
        token = await csrf_token(client)
        for path in ("/feedback", f"/feedback/{world.application_id}", "/staff/people"):
            response = await client.put(path, headers={"x-csrftoken": token})
            assert response.status_code == 405, (who, path)
