"""Every way in starts a session the same way (`portal.auth.signin`): the browser's
previous session ends, a new one starts, and the sign-in is audited with the
client's hashed address. (Single sign-on, against a real provider, in test_oidc.)"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.db import unit_of_work, utcnow
from portal.security.models import Session
from portal.security.sessions import session_hash
from portal.security.tokens import new_token, token_digest
from portal.staff.models import StaffInvitation, StaffUser
from portal.staff.people import INVITATION_LIFETIME
from tests.factories import (
    csrf_token,
    invitation,
    make_staff,
    make_world,
    open_link,
    open_session,
    staff_sign_in,
)

Sessions = async_sessionmaker[AsyncSession]
COOKIE = "afterword_session"
PORTAL = Path(__file__).resolve().parent.parent / "portal"
PASSWORD = "a long enough password"


def test_sessions_start_in_one_place() -> None:
    starting = [
        str(path.relative_to(PORTAL))
        for path in sorted(PORTAL.rglob("*.py"))
        if re.search(r"\bstart_session\(", path.read_text())
    ]
    # Where it is defined, and the one module that signs people in.
    assert starting == ["auth/signin.py", "security/sessions.py"]


async def _candidate_link(
    client: httpx.AsyncClient, sessions: Sessions
) -> tuple[str, dict[str, Any]]:
    world = await make_world(sessions)
    response = await open_link(client, await invitation(sessions, world))
    assert response.status_code == 303
    return "session.signed_in", {"via": "invitation"}


async def _staff_password(
    client: httpx.AsyncClient, sessions: Sessions
) -> tuple[str, dict[str, Any]]:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(client)).status_code == 303
    return "staff.signed_in", {}


async def _invitation(client: httpx.AsyncClient, sessions: Sessions) -> tuple[str, dict[str, Any]]:
    world = await make_world(sessions)
    token, now = new_token(), utcnow()
    async with unit_of_work(sessions) as db:
        person = StaffUser(
            organization_id=world.organization_id,
            email="robin@acme.example",
            name="Robin Invited",
            role="recruiter",
        )
        db.add(person)
        await db.flush()
        db.add(
            StaffInvitation(
                staff_user_id=person.id,
                token_hash=token_digest(token),
                created_at=now,
                expires_at=now + INVITATION_LIFETIME,
            )
        )
    path = f"/staff/l/{token}"
    csrf = await csrf_token(client, path)
    data = {"csrftoken": csrf, "password": PASSWORD, "confirm": PASSWORD}
    assert (await client.post(path, data=data)).status_code == 303
    return "staff.invitation_accepted", {"method": "password"}


WaysIn = Callable[[httpx.AsyncClient, Sessions], Awaitable[tuple[str, dict[str, Any]]]]


async def _check(client: httpx.AsyncClient, sessions: Sessions, way_in: WaysIn) -> None:
    # A browser with a session already (someone else's, say, on a shared computer).
    other = await make_world(sessions, slug="globex", email="bo@example.com")
    before = await open_session(sessions, candidate_id=other.candidate_id)
    client.cookies.set(COOKIE, before)

    action, details = await way_in(client, sessions)

    (after,) = [c.value for c in client.cookies.jar if c.name == COOKIE and c.value != before]
    async with sessions() as db:
        old = await db.get(Session, session_hash(before))
        new = await db.get(Session, session_hash(after))
        events = (await db.scalars(select(AuditEvent).where(AuditEvent.action == action))).all()
    assert old is not None and old.revoked_at is not None
    assert new is not None and new.revoked_at is None
    (event,) = events
    signed_in = new.candidate_id or new.staff_user_id
    assert (event.actor_id, event.details) == (signed_in, details)
    assert event.ip_hash


async def test_a_candidate_link_ends_the_old_session_and_audits_the_new_one(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _check(client, sessions, _candidate_link)


async def test_a_staff_password_ends_the_old_session_and_audits_the_new_one(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _check(client, sessions, _staff_password)


async def test_an_accepted_invitation_ends_the_old_session_and_audits_the_new_one(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _check(client, sessions, _invitation)
