"""Sessions end when they should: idle, absolute limit, sign-out."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.db import unit_of_work, utcnow
from portal.security.models import Session
from tests.factories import csrf_token, make_world, sign_in

Sessions = async_sessionmaker[AsyncSession]


async def test_a_session_ends_after_thirty_idle_minutes(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    page = f"/feedback/{world.application_id}"
    async with unit_of_work(sessions) as db:
        await db.execute(update(Session).values(last_seen_at=utcnow() - dt.timedelta(minutes=29)))
    assert (await client.get(page)).status_code == 200  # and this counts as activity
    async with unit_of_work(sessions) as db:
        seen = await db.scalar(select(Session.last_seen_at))
        assert seen is not None and utcnow() - seen < dt.timedelta(minutes=1)
        await db.execute(update(Session).values(last_seen_at=utcnow() - dt.timedelta(minutes=31)))
    response = await client.get(page)
    assert response.status_code == 401
    assert "Get a sign-in link" in response.text


async def test_a_session_ends_after_twelve_hours_however_active(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    async with unit_of_work(sessions) as db:
        session = await db.scalar(select(Session))
        assert session is not None
        assert session.expires_at - session.created_at == dt.timedelta(hours=12)
        await db.execute(
            update(Session).values(
                created_at=utcnow() - dt.timedelta(hours=12),
                expires_at=utcnow() - dt.timedelta(seconds=1),
                last_seen_at=utcnow(),
            )
        )
    assert (await client.get(f"/feedback/{world.application_id}")).status_code == 401


async def test_sign_out_ends_the_session_on_the_server(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    stolen_cookie = client.cookies["afterword_session"]
    token = await csrf_token(client, f"/feedback/{world.application_id}")

    response = await client.post("/signout", data={"csrftoken": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?signed_out=1"
    assert "You have signed out" in (await client.get(response.headers["location"])).text

    # Replaying the old cookie gets nothing: the server ended the session.
    replay = await client.get(
        f"/feedback/{world.application_id}",
        headers={"cookie": f"afterword_session={stolen_cookie}"},
    )
    assert replay.status_code == 401
    async with unit_of_work(sessions) as db:
        actions = (await db.scalars(select(AuditEvent.action))).all()
    assert "session.signed_out" in actions


async def test_sign_out_needs_the_csrf_token(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    assert (await client.post("/signout")).status_code == 403
    assert (await client.get(f"/feedback/{world.application_id}")).status_code == 200


async def test_a_forged_session_cookie_is_nobody(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    response = await client.get(
        f"/feedback/{world.application_id}", headers={"cookie": "afterword_session=guess"}
    )
    assert response.status_code == 401


async def test_session_cookie_is_secure_and_host_prefixed_over_https(
    database_url: str,
) -> None:
    from portal.app import create_app
    from portal.settings import Settings
    from tests.factories import CSRF_FIELD, invitation

    settings = Settings(
        database_url=database_url, base_url="https://feedback.example.com", run_worker=False
    )
    app = create_app(settings, run_worker=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="https://feedback.example.com"
        ) as client:
            world = await make_world(app.state.portal.sessions)
            path = await invitation(app.state.portal.sessions, world)
            page = await client.get(path)
            assert "__Host-afterword_csrf=" in page.headers["set-cookie"]
            assert "Secure" in page.headers["set-cookie"]
            assert page.headers["strict-transport-security"].startswith("max-age=")
            match = CSRF_FIELD.search(page.text)
            assert match
            response = await client.post(path, data={"csrftoken": match[1]})
            assert response.status_code == 303
            cookie = response.headers["set-cookie"]
            assert cookie.startswith("__Host-afterword_session=")
            assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
            assert "Domain" not in cookie
    finally:
        async with app.state.portal.engine.begin() as connection:
            from portal.models import Base

            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())
        await app.state.portal.engine.dispose()
