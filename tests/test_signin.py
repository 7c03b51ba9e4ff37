"""Asking for a sign-in link by email: same answer for everyone, a link only for the known."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import httpx
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.access.models import AccessLink
from portal.db import unit_of_work
from portal.mail.models import BackgroundJob, OutboxEmail
from portal.settings import Settings
from tests.factories import csrf_token, make_world, open_link

Sessions = async_sessionmaker[AsyncSession]


async def _ask(client: httpx.AsyncClient, address: str) -> httpx.Response:
    return await client.post(
        "/signin", data={"csrftoken": await csrf_token(client), "email": address}
    )


async def test_known_and_unknown_addresses_get_the_same_answer(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await make_world(sessions, email="dana@example.com")
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = app.state.portal.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        known = await _ask(client, "dana@example.com")
        known_statements, statements[:] = list(statements), []
        unknown = await _ask(client, "nobody@example.com")
        unknown_statements = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("dana@example.com", "X") == unknown.text.replace(
        "nobody@example.com", "X"
    )
    assert {k: v for k, v in known.headers.items() if k != "content-length"} == {
        k: v for k, v in unknown.headers.items() if k != "content-length"
    }
    # The request does the same database work either way; the worker does the rest.
    assert known_statements == unknown_statements
    async with unit_of_work(sessions) as db:
        assert len((await db.scalars(select(BackgroundJob))).all()) == 2
        assert (await db.scalars(select(AccessLink))).all() == []


async def test_a_known_address_is_emailed_a_working_link(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions, email="dana@example.com")
    await _ask(client, "  Dana@Example.com ")
    await _ask(client, "nobody@example.com")
    # One pass answers both requests, then delivers the single email they produced.
    assert await app.state.worker.run_once() == 3
    assert await app.state.worker.run_once() == 0
    async with unit_of_work(sessions) as db:
        assert (await db.scalars(select(BackgroundJob))).all() == []
        sent = (await db.scalars(select(OutboxEmail))).one()
        assert sent.state == "sent" and sent.template == "sign_in"

    files = list(Path(settings.mail_dir).glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "dana@example.com"
    assert "Acme Corp" in message["From"]
    assert message["Message-ID"] and message["Date"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "10 minutes" in text
    link = next(word for word in text.split() if word.startswith("http://testserver/l/"))
    response = await open_link(client, link.removeprefix("http://testserver"))
    assert response.status_code == 303
    assert response.headers["location"].endswith("/feedback")
    assert (await client.get(f"/feedback/{world.application_id}")).status_code == 200


async def test_one_link_per_organization_that_knows_the_address(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    await make_world(sessions, slug="acme", email="dana@example.com")
    await make_world(sessions, slug="globex", email="dana@example.com")
    await _ask(client, "dana@example.com")
    await app.state.worker.run_once()
    await app.state.worker.run_once()
    senders = sorted(
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["From"]
        for path in Path(settings.mail_dir).glob("*.eml")
    )
    assert len(senders) == 2
    assert "Acme Corp" in senders[0] and "Globex Corp" in senders[1]


async def test_a_malformed_address_is_explained_and_kept(client: httpx.AsyncClient) -> None:
    response = await _ask(client, "dana-at-example")
    assert response.status_code == 422
    assert "Enter an email address like name@example.com." in response.text
    assert 'value="dana-at-example"' in response.text
    assert 'aria-invalid="true"' in response.text

    empty = await _ask(client, "")
    assert empty.status_code == 422
    assert "Enter the email address your application used." in empty.text


async def test_htmx_gets_only_the_panel(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/signin",
        data={"email": "dana@example.com"},
        headers={"hx-request": "true", "x-csrftoken": token},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="signin-panel">')
    assert "<html" not in response.text
    assert "Check your email" in response.text


async def test_sign_in_requests_are_rate_limited(client: httpx.AsyncClient) -> None:
    statuses = [(await _ask(client, f"person{i}@example.com")).status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]


async def test_one_address_cannot_be_flooded(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    assert [(await _ask(client, "dana@example.com")).status_code for _ in range(3)] == [200] * 3
    assert (await _ask(other_client, "DANA@example.com")).status_code == 429


async def test_sign_in_needs_the_csrf_token(client: httpx.AsyncClient) -> None:
    await client.get("/signin")
    assert (await client.post("/signin", data={"email": "dana@example.com"})).status_code == 403
