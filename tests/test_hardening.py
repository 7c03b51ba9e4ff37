"""What an attack pass broke: referrers, malformed requests, forged hosts, caches, floods."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.app import CSRF_EXEMPT
from portal.db import unit_of_work
from portal.jobs.models import BackgroundJob
from portal.security.csrf import CsrfMiddleware
from tests.factories import CSRF_FIELD, csrf_token, invitation, make_world, open_link, sign_in

Sessions = async_sessionmaker[AsyncSession]
META_REFERRER = re.compile(r'<meta name="referrer" content="([^"]*)">')
SPENT = "/l/" + "S" * 43


def _client_at(app: Starlette, address: str, root_path: str = "") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000), root_path=root_path)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def _assert_no_referrer(response: httpx.Response) -> None:
    assert response.headers["referrer-policy"] == "no-referrer", response.status_code
    if "<html" in response.text:
        assert META_REFERRER.findall(response.text) == ["no-referrer"], response.status_code


# --- 1. link pages send no referrer, header and markup agreeing ----------------------


async def test_link_pages_send_no_referrer_whatever_their_status(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    page = await client.get(path)
    assert page.status_code == 200
    _assert_no_referrer(page)
    token = CSRF_FIELD.search(page.text)
    assert token

    forbidden = await client.post(path, data={})  # no CSRF token: 403
    assert forbidden.status_code == 403
    _assert_no_referrer(forbidden)

    spent = await client.post(SPENT, data={"csrftoken": token[1]})
    assert spent.status_code == 410
    _assert_no_referrer(spent)
    renewed = await client.post(f"{SPENT}/renew", data={"csrftoken": token[1]})
    assert renewed.status_code == 200
    _assert_no_referrer(renewed)

    statuses = [
        (await client.post(SPENT, data={"csrftoken": token[1]})).status_code for _ in range(10)
    ]
    limited = await client.post(SPENT, data={"csrftoken": token[1]})
    assert limited.status_code == 429, statuses
    _assert_no_referrer(limited)

    # Behind a proxy prefix too.
    async with _client_at(app, "192.0.2.50", root_path="/careers/feedback") as proxied:
        _assert_no_referrer(await proxied.get("/careers/feedback" + SPENT))


async def test_a_link_page_form_posts_with_a_null_origin(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """Under no-referrer, browsers send `Origin: null`: Sec-Fetch-Site decides."""
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    page = await client.get(path)
    token = CSRF_FIELD.search(page.text)
    assert token
    cross = {"origin": "null", "sec-fetch-site": "cross-site"}
    refused = await client.post(path, data={"csrftoken": token[1]}, headers=cross)
    assert refused.status_code == 403
    same = {"origin": "null", "sec-fetch-site": "same-origin"}
    opened = await client.post(path, data={"csrftoken": token[1]}, headers=same)
    assert opened.status_code == 303


async def test_other_pages_keep_a_same_origin_referrer(client: httpx.AsyncClient) -> None:
    for path in ("/", "/signin", "/nowhere"):
        response = await client.get(path)
        assert response.headers["referrer-policy"] == "same-origin"
        assert META_REFERRER.findall(response.text) == ["same-origin"]


# --- 3. malformed requests get a 4xx page, never a 500 -------------------------------


async def test_a_non_ascii_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    odd = "é" * 43
    in_header = await client.post(
        "/signin", data={"email": "a@example.com"}, headers={b"x-csrftoken": odd.encode()}
    )
    in_form = await client.post("/signin", data={"email": "a@example.com", "csrftoken": odd})
    in_cookie = await client.post(
        "/signin",
        content=f"email=a%40example.com&csrftoken={token}".encode(),
        headers={
            b"content-type": b"application/x-www-form-urlencoded",
            b"cookie": ("afterword_csrf=" + odd).encode(),
        },
    )
    for response in (in_header, in_form, in_cookie):
        assert response.status_code == 403
        assert "This form has expired" in response.text


async def test_a_cookie_that_is_no_token_of_ours_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/signin", headers={"cookie": 'afterword_csrf="}</body><script>x()</script>'}
    )
    assert response.status_code == 200
    assert "<script>x()" not in response.text
    assert "afterword_csrf=" in response.headers["set-cookie"]


async def test_too_many_form_fields_is_a_400(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    body = "&".join(f"f{n}=x" for n in range(1500)) + f"&csrftoken={token}"
    response = await client.post(
        "/signin",
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert "That request could not be read" in response.text


MALFORMED_MULTIPART = [
    ("b" * 300, b"--" + b"b" * 300 + b"\r\nContent-Disposition: form-data; name=x\r\n\r\n1"),
    ("xyz", b"this is not multipart at all"),
    ("xyz", b"--xyz\r\nno-colon-header\r\n\r\nvalue\r\n--xyz--\r\n"),
]


async def test_a_malformed_multipart_body_is_a_400(client: httpx.AsyncClient) -> None:
    await csrf_token(client)
    for boundary, body in MALFORMED_MULTIPART:
        response = await client.post(
            "/signin",
            content=body,
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status_code == 400, boundary[:5]
        assert "That request could not be read" in response.text


async def test_a_malformed_multipart_body_behind_a_header_token_is_a_400(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/signin",
        content=b"--xyz\r\nno-colon-header\r\n\r\nvalue\r\n--xyz--\r\n",
        headers={"content-type": "multipart/form-data; boundary=xyz", "x-csrftoken": token},
    )
    assert response.status_code == 400
    assert "That request could not be read" in response.text


async def test_ids_beyond_the_column_are_simply_not_found(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    for application_id in (2**31 - 1, 2**31, 2**63, 10**30):
        response = await client.get(f"/feedback/{application_id}")
        assert response.status_code == 404, application_id
        assert "Page not found" in response.text


# --- 5. one candidate, many renew requests: one email --------------------------------


async def test_renew_requests_from_many_addresses_send_one_email(
    app: Starlette, client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    await open_link(client, path)  # now spent
    answers = []
    for who in (client, other_client) * 5:
        token = await csrf_token(who)
        answers.append(await who.post(f"{path}/renew", data={"csrftoken": token}))
    assert [answer.status_code for answer in answers] == [200] * 10
    assert all("we have sent a new sign-in link" in answer.text for answer in answers)
    async with unit_of_work(sessions) as db:
        assert len((await db.scalars(select(BackgroundJob))).all()) <= 3
    await app.state.worker.run_once()
    await app.state.worker.run_once()
    async with unit_of_work(sessions) as db:
        sent = (
            await db.scalars(select(BackgroundJob).where(BackgroundJob.kind == "mail.send"))
        ).all()
    assert [email.payload["template"] for email in sent] == ["sign_in"]


# --- 6. no token in the access log, whatever the root path ---------------------------


async def test_tokens_never_reach_the_logs_behind_a_root_path(
    app: Starlette, sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    token = path.removeprefix("/l/")
    with caplog.at_level(logging.INFO, logger="portal.access"):
        async with _client_at(app, "192.0.2.60", root_path="/careers/feedback") as proxied:
            assert (await open_link(proxied, "/careers/feedback" + path)).status_code == 303
        # A proxy that adds a prefix uvicorn was not told about: still redacted.
        async with _client_at(app, "192.0.2.61") as unprefixed:
            await unprefixed.get("/careers/feedback" + path)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "portal.access")
    assert "/careers/feedback/l/[redacted]" in logged
    assert token not in logged


# --- 7. redirects never built from the Host header -----------------------------------


async def test_redirects_ignore_a_forged_host(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    evil = {"host": "evil.example"}
    favicon = await client.get("/favicon.ico", headers=evil)
    assert favicon.status_code == 301
    assert favicon.headers["location"] == "/static/favicon.svg"
    assert "max-age=86400" in favicon.headers["cache-control"]

    world = await make_world(sessions)
    path = await invitation(sessions, world)
    page = await client.get(path, headers=evil)
    token = CSRF_FIELD.search(page.text)
    assert token
    opened = await client.post(path, data={"csrftoken": token[1]}, headers=evil)
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/feedback/{world.application_id}"

    signed_out = await client.post("/signout", data={"csrftoken": token[1]}, headers=evil)
    assert signed_out.headers["location"] == "/signin?signed_out=1"


async def test_redirects_keep_the_root_path(app: Starlette) -> None:
    async with _client_at(app, "192.0.2.70", root_path="/careers/feedback") as proxied:
        favicon = await proxied.get("/careers/feedback/favicon.ico")
    assert favicon.headers["location"] == "/careers/feedback/static/favicon.svg"


# --- CSRF and caching (no cookie in a shared cache; Vary: Cookie) ----------------------


async def test_cacheable_responses_never_set_a_cookie(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await make_world(sessions)
    for path in ("/branding/acme.css", "/static/css/portal.css", "/favicon.ico", "/healthz"):
        response = await client.get(path)
        assert response.status_code in (200, 301), path
        assert "set-cookie" not in response.headers, path
        assert not client.cookies, path


async def test_every_response_that_sets_a_cookie_is_private(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    paths = ["/", "/signin", "/nowhere", "/feedback", await invitation(sessions, world)]
    for path in paths:
        client.cookies.clear()
        response = await client.get(path)
        assert "set-cookie" in response.headers, path
        cache_control = response.headers["cache-control"]
        assert "no-store" in cache_control or "private" in cache_control, path
        assert "public" not in cache_control, path
        assert "Cookie" in response.headers["vary"], path


async def test_pages_vary_on_cookie_when_signed_in(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    page = await client.get(f"/feedback/{world.application_id}")
    assert page.status_code == 200
    assert "set-cookie" not in page.headers
    assert page.headers["vary"] == "Cookie"


# --- CSRF exemptions: declared in one place, logged, and nothing else exempt ---------


def _unsafe_routes(routes: Sequence[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for route in routes:
        if isinstance(route, Mount):
            found += _unsafe_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route) and route.methods and "POST" in route.methods:
            found.append((str(route.name), prefix + route.path.replace("{token}", "T" * 43)))
    return found


async def test_only_declared_routes_are_exempt_from_csrf(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await client.get("/signin")  # the cookie, but no token
    routes = _unsafe_routes(app.routes)
    assert len(routes) >= 4
    for name, path in routes:
        response = await client.post(path, data={"email": "a@example.com"})
        # The routes of the `api` Mount are exempt with it (they answer 401 without a key).
        if name in CSRF_EXEMPT or ("api" in CSRF_EXEMPT and path.startswith("/api/")):
            assert response.status_code != 403, name
        else:
            assert response.status_code == 403, name


async def _echo(request: Request) -> Response:
    return PlainTextResponse("done")


def _refuse(status: int) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("refused", status_code=status)(scope, receive, send)

    return app


def _exempting_app(exempt: dict[str, str]) -> CsrfMiddleware:
    routes = [
        Route("/hooks/unsubscribe/{token}", _echo, methods=["POST"], name="pool.unsubscribe"),
        Route("/hooks/unsubscribe/{token}", _echo, methods=["GET"], name="pool.unsubscribe_page"),
        Route("/signin", _echo, methods=["POST"], name="candidate.signin_request"),
        Mount("/api", routes=[Route("/items", _echo, methods=["POST"], name="items")], name="api"),
    ]
    return CsrfMiddleware(
        Starlette(routes=routes),
        https=False,
        allowed_origin=None,
        rejected=_refuse(403),
        malformed=_refuse(400),
        routes=routes,
        exempt=exempt,
    )


async def test_a_declared_exemption_covers_its_route_and_area_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="portal.security.csrf"):
        app = _exempting_app(
            {
                "pool.unsubscribe": "RFC 8058 one-click: the token in the URL authenticates",
                "api": "API keys, no cookies",
            }
        )
    logged = [record.getMessage() for record in caplog.records]
    assert len(logged) == 2
    assert any("pool.unsubscribe" in m and "POST /hooks/unsubscribe/{token}" in m for m in logged)
    assert any("api" in m and "/api/" in m and "API keys" in m for m in logged)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        hook = await client.post("/hooks/unsubscribe/abc", data={"List-Unsubscribe": "One-Click"})
        assert hook.status_code == 200
        api = await client.post("/api/items", json={})
        assert api.status_code == 200
        assert "set-cookie" not in api.headers
        # Everything else still needs the token.
        assert (await client.post("/signin", data={})).status_code == 403
        assert (await client.put("/hooks/unsubscribe/abc")).status_code == 403


async def test_an_exemption_for_an_unknown_route_stops_the_start() -> None:
    with pytest.raises(ValueError, match="unknown route"):
        _exempting_app({"pool.unsubscrib": "typo"})
