"""Areas: each answers errors in its own form and applies its own rules."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from portal.auth import current_actor
from tests.factories import make_world, sign_in

Sessions = async_sessionmaker[AsyncSession]


def _api(app: Starlette) -> Mount:
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/api")
    return mount


async def test_the_api_answers_errors_in_json_and_sets_no_cookie(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["status"] == 404
    assert "set-cookie" not in missing.headers
    # No CSRF check (the API authenticates each request itself): no 403, but 401.
    posted = await client.post("/api/v1/applications", json={})
    assert posted.status_code == 401 and posted.json()["status"] == 401
    assert "set-cookie" not in posted.headers
    big = await client.post("/api/v1/applications", content=b"a" * (2 * 1024 * 1024))
    assert big.status_code == 413
    assert big.json()["status"] == 413
    assert big.json()["instance"] == "/api/v1/applications"


async def test_the_api_answers_405_in_json(app: Starlette, client: httpx.AsyncClient) -> None:
    async def ping(request: Request) -> Response:
        return JSONResponse({"ok": True})

    _api(app).routes.append(Route("/ping", ping, methods=["GET"]))
    assert (await client.get("/api/ping")).json() == {"ok": True}
    wrong = await client.delete("/api/ping")
    assert wrong.status_code == 405
    assert wrong.json()["status"] == 405


async def test_the_api_never_reads_the_session_cookie(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """It takes requests without a CSRF check, so a browser's session must not count."""

    async def whoami(request: Request) -> Response:
        return JSONResponse({"actor": type(await current_actor(request)).__name__})

    _api(app).routes.append(Route("/whoami", whoami, methods=["GET", "POST"]))
    await sign_in(client, sessions, await make_world(sessions))
    assert (await client.get("/feedback")).status_code in (200, 303)
    assert (await client.get("/api/whoami")).json() == {"actor": "Anonymous"}
    assert (await client.post("/api/whoami")).json() == {"actor": "Anonymous"}


async def test_pages_answer_errors_as_pages_and_htmx_as_fragments(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/nowhere")
    assert page.status_code == 404 and "<html" in page.text
    fragment = await client.get("/nowhere", headers={"hx-request": "true"})
    assert fragment.status_code == 404
    assert "<html" not in fragment.text and "Page not found" in fragment.text
    assert fragment.headers["hx-retarget"] == "#main"
    staff_missing = await client.get("/staff/nothing-here")
    assert staff_missing.status_code == 404 and "<html" in staff_missing.text
    wrong_method = await client.get("/staff/signout")
    assert wrong_method.status_code in (303, 405)


async def test_links_under_a_root_path_keep_it_in_every_area(app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app, root_path="/careers")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        signin = await client.get("/careers/staff/signin")
        assert 'action="/careers/staff/signin"' in signin.text
        assert 'href="/careers/static/css/portal.css"' in signin.text
        home = await client.get("/careers/staff/")
    assert home.headers["location"] == "/careers/staff/signin"
