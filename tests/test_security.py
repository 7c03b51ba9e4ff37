"""Security baseline across every route: headers, CSRF, body size, logs."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import Route

from portal.app import CSRF_EXEMPT
from portal.routing import walk_routes
from tests.factories import csrf_token, invitation, make_world, open_link

Sessions = async_sessionmaker[AsyncSession]


def _unsafe_routes(app: Starlette) -> list[str]:
    """Every route that takes a POST, Mounts and areas included, except those declared
    exempt from CSRF checks (the API, which never reads the session cookie, and the
    one-click unsubscribe; tests/test_hardening.py checks that list)."""
    paths = []
    for path, route in walk_routes(app.routes):
        posts = isinstance(route, Route) and route.methods and "POST" in route.methods
        if posts and not path.startswith("/api/") and route.name not in CSRF_EXEMPT:
            paths.append(path.replace("{token}", "T" * 43))
    return paths


async def test_every_state_changing_route_refuses_a_missing_csrf_token(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    paths = _unsafe_routes(app)
    assert {
        "/signin",
        "/signout",
        "/l/" + "T" * 43,
        "/l/" + "T" * 43 + "/renew",
        "/staff/signin",
        "/staff/signout",
    } <= set(paths)
    await client.get("/signin")  # has the cookie, but sends no token
    for path in paths:
        response = await client.post(path, data={"email": "a@example.com"})
        assert response.status_code == 403, path
        assert "This form has expired" in response.text


async def test_a_request_without_the_cookie_is_refused_even_with_a_token(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = await csrf_token(client)
    client.cookies.clear()
    for path in _unsafe_routes(app):
        response = await client.post(path, data={"csrftoken": token})
        assert response.status_code == 403, path


async def test_pages_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/", "/signin", "/l/" + "x" * 43, "/nowhere", "/static/css/portal.css"):
        response = await client.get(path)
        csp = response.headers["content-security-policy"]
        for directive in (
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ):
            assert directive in csp, (path, directive)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        # HSTS only over HTTPS (see test_sessions for the https case).
        assert "strict-transport-security" not in response.headers


async def test_pages_have_no_inline_script_or_style(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    pages = [(await client.get(p)).text for p in ("/", "/signin", path)]
    response = await open_link(client, path)
    pages.append((await client.get(response.headers["location"])).text)
    for html in pages:
        assert "style=" not in html
        assert "<style" not in html
        for chunk in html.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), chunk[:80]


async def test_a_large_body_is_refused(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/signin",
        content=b"csrftoken=" + token.encode() + b"&email=" + b"a" * (10 * 1024 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert "larger than this form accepts" in response.text


async def test_a_get_announcing_a_large_body_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.request("GET", "/signin", content=b"a" * (10 * 1024 * 1024 + 1))
    assert response.status_code == 413


async def test_a_large_body_without_a_length_is_refused(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)

    async def chunks() -> object:
        yield b"csrftoken=" + token.encode() + b"&email="
        for _ in range(20):
            yield b"a" * (128 * 1024)

    response = await client.post(
        "/signin",
        content=chunks(),  # type: ignore[arg-type]
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


async def test_tokens_never_reach_the_logs(
    client: httpx.AsyncClient, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    token = path.removeprefix("/l/")
    with caplog.at_level(logging.DEBUG):
        await open_link(client, path)
        await open_link(client, path)
    # httpx logs the URL it requested: that is the test's client, not the server.
    server_side = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("httpx")
    )
    assert "/l/[redacted]" in server_side
    assert token not in server_side


async def test_unknown_pages_are_a_friendly_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    assert (await client.get("/signout")).status_code == 405
    put = await client.put("/feedback", headers={"x-csrftoken": token})
    assert put.status_code == 405
    assert "This address does not accept that request." in put.text


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).text == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.text == "ready"


async def test_readiness_fails_without_a_database() -> None:
    from portal.app import create_app
    from portal.settings import Settings

    app = create_app(
        Settings(database_url="postgresql://nobody@127.0.0.1:1/none", run_worker=False),
        run_worker=False,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503
    await app.state.portal.engine.dispose()


async def test_branding_stylesheet(client: httpx.AsyncClient, sessions: Sessions) -> None:
    await make_world(sessions)
    css = await client.get("/branding/acme.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "--accent:#224466" in css.text
    fallback = await client.get("/branding/unknown.css")
    assert "--accent:#1f5f8b" in fallback.text


async def test_htmx_error_answers_replace_the_main_content(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere", headers={"hx-request": "true"})
    assert response.status_code == 404
    assert response.headers["hx-retarget"] == "#main"
    assert response.headers["hx-reswap"] == "innerHTML"
    assert "<html" not in response.text
    assert "Page not found" in response.text


async def test_an_htmx_post_with_a_stale_form_leaves_the_form_in_place(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/signin")
    response = await client.post(
        "/signin", data={"email": "a@example.com"}, headers={"hx-request": "true"}
    )
    assert response.status_code == 403
    # Into the page's message area, not over the form (whose text would be lost).
    assert response.headers["hx-retarget"] == "#session-message"
    assert response.headers["hx-reswap"] == "innerHTML"
    assert "<html" not in response.text
    assert "This page has expired" in response.text


async def test_page_links_keep_the_root_path_behind_a_proxy(app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app, root_path="/careers/feedback")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/careers/feedback/signin")
    assert response.status_code == 200
    assert 'href="/careers/feedback/static/css/portal.css"' in response.text
    assert 'action="/careers/feedback/signin"' in response.text


async def test_readiness_fails_while_the_schema_is_behind_the_code(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    from sqlalchemy import text

    from portal.migrate import Schema

    schema = Schema.of_code()
    previous = next(iter(schema.known - {schema.head}))
    async with sessions() as db, db.begin():
        await db.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": previous})
    try:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.text == (
            f"database schema behind: at {previous}, this code needs {schema.head}; "
            "run `portal db upgrade`"
        )
        assert ready.headers["cache-control"] == "no-store"
        # A revision this code does not know is a newer release's, during a rolling
        # upgrade: still ready.
        async with sessions() as db, db.begin():
            await db.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
        assert (await client.get("/readyz")).text == "ready"
    finally:
        async with sessions() as db, db.begin():
            await db.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": schema.head}
            )
