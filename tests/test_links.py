"""Opening emailed links: the candidate's way in, and every way an attacker could abuse it."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.access.models import AccessLink
from portal.audit.models import AuditEvent
from portal.db import unit_of_work, utcnow
from portal.security.models import Session
from portal.security.tokens import token_digest
from tests.factories import (
    CSRF_FIELD,
    invitation,
    make_world,
    open_link,
    press_button,
    sign_in_link,
)

Sessions = async_sessionmaker[AsyncSession]


async def _actions(sessions: Sessions) -> list[str]:
    async with unit_of_work(sessions) as db:
        return list((await db.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all())


async def test_link_opens_feedback_after_pressing_the_button(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)

    page = await client.get(path)
    assert page.status_code == 200
    assert "Show my feedback" in page.text
    assert "Acme Corp" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"

    field = CSRF_FIELD.search(page.text)
    assert field
    response = await client.post(path, data={"csrftoken": field[1]})
    assert response.status_code == 303
    assert response.headers["location"] == f"/feedback/{world.application_id}"
    assert "/l/" not in response.headers["location"]
    cookie = response.headers["set-cookie"]
    assert "afterword_session=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()

    feedback = await client.get(response.headers["location"])
    assert feedback.status_code == 200
    assert "Thank you, Dana" in feedback.text
    assert await _actions(sessions) == ["link.used", "session.signed_in"]


async def test_get_and_head_never_use_the_link(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    for _ in range(3):
        assert (await client.get(path)).status_code == 200
        assert (await client.head(path)).status_code == 200
    async with unit_of_work(sessions) as db:
        link = await db.scalar(select(AccessLink))
        assert link is not None and link.used_at is None
    assert (await open_link(client, path)).status_code == 303


async def test_a_link_works_once(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    assert (await open_link(client, path)).status_code == 303

    again = await open_link(other_client, path)
    assert again.status_code == 410
    assert "This link no longer works" in again.text
    assert "set-cookie" not in again.headers or "afterword_session" not in again.headers.get(
        "set-cookie", ""
    )
    assert "link.reused" in await _actions(sessions)


async def test_expired_link_offers_a_fresh_one(
    client: httpx.AsyncClient, sessions: Sessions, app: object
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world, now=utcnow() - dt.timedelta(days=15))
    response = await open_link(client, path)
    assert response.status_code == 410
    assert "Email me a new link" in response.text

    token = CSRF_FIELD.search(response.text)
    assert token
    renewed = await client.post(f"{path}/renew", data={"csrftoken": token[1]})
    assert renewed.status_code == 200
    assert "we have sent a new sign-in link" in renewed.text

    worker = app.state.worker  # type: ignore[attr-defined]
    await worker.run_once()
    async with unit_of_work(sessions) as db:
        links = (await db.scalars(select(AccessLink).order_by(AccessLink.id))).all()
    assert [link.purpose for link in links] == ["invitation", "sign_in"]


async def test_revoked_expired_used_and_unknown_links_look_the_same(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    used = await invitation(sessions, world)
    assert (await open_link(other_client, used)).status_code == 303
    expired = await invitation(sessions, world, now=utcnow() - dt.timedelta(days=30))
    revoked = await invitation(sessions, world)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(AccessLink)
            .where(AccessLink.token_hash == token_digest(revoked.removeprefix("/l/")))
            .values(revoked_at=utcnow())
        )
    unknown = "/l/" + "A" * 43

    bodies = []
    for path in (used, expired, revoked, unknown):
        response = await open_link(client, path)
        assert response.status_code == 410
        body = response.text.replace(path.removeprefix("/l/"), "TOKEN")
        # Branding differs only for links of an organization; compare the message.
        bodies.append(body.split("<main")[1].split("</main>")[0].replace("Acme Corp", ""))
    assert len(set(bodies)) == 1


async def test_link_confirmation_needs_the_csrf_token(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    await client.get(path)
    assert (await client.post(path)).status_code == 403
    assert (await client.post(path, data={"csrftoken": "forged"})).status_code == 403
    async with unit_of_work(sessions) as db:
        link = await db.scalar(select(AccessLink))
        assert link is not None and link.used_at is None


async def test_link_confirmation_from_another_site_is_refused(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    page = await client.get(path)
    token = CSRF_FIELD.search(page.text)
    assert token
    cross_site = await client.post(
        path, data={"csrftoken": token[1]}, headers={"sec-fetch-site": "cross-site"}
    )
    assert cross_site.status_code == 403
    foreign = await client.post(
        path, data={"csrftoken": token[1]}, headers={"origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    same = await client.post(
        path,
        data={"csrftoken": token[1]},
        headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"},
    )
    assert same.status_code == 303


async def test_sign_in_link_lasts_ten_minutes(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await sign_in_link(sessions, world)
    async with unit_of_work(sessions) as db:
        link = await db.scalar(select(AccessLink))
        assert link is not None
        assert (
            dt.timedelta(minutes=9) < link.expires_at - link.created_at <= dt.timedelta(minutes=10)
        )
        await db.execute(update(AccessLink).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert (await open_link(client, path)).status_code == 410


async def test_a_new_sign_in_link_revokes_older_unused_ones(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    older = await sign_in_link(sessions, world)
    newer = await sign_in_link(sessions, world)
    assert (await open_link(client, older)).status_code == 410
    response = await open_link(client, newer)
    assert response.status_code == 303
    # A sign-in link leads to the list, which goes straight to a single application.
    assert response.headers["location"] == "/feedback"


async def test_opening_a_link_starts_a_new_session(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    assert (await open_link(client, await invitation(sessions, world))).status_code == 303
    first = client.cookies["afterword_session"]
    assert (await open_link(client, await invitation(sessions, world))).status_code == 303
    second = client.cookies["afterword_session"]
    assert first != second
    async with unit_of_work(sessions) as db:
        old = await db.get(Session, token_digest(first))
        assert old is not None and old.revoked_at is not None
    # Only the hash of the session id is stored.
    async with unit_of_work(sessions) as db:
        assert await db.get(Session, token_digest(second)) is not None
        ids = (await db.scalars(select(Session.id_hash))).all()
        assert all(len(value) == 32 for value in ids)


async def test_link_confirmation_is_rate_limited(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    page = await client.get("/l/" + "B" * 43)
    token = CSRF_FIELD.search(page.text)
    assert token
    statuses = [
        (await client.post("/l/" + "B" * 43, data={"csrftoken": token[1]})).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [410] * 10
    assert statuses[10] == 429


async def test_absurdly_long_tokens_are_just_unknown(client: httpx.AsyncClient) -> None:
    path = "/l/" + "x" * 5000
    assert (await client.get(path)).status_code == 410
    response = await press_button(client, path)
    assert response.status_code == 410
    assert "This link no longer works" in response.text
