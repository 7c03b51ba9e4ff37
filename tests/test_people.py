"""Staff administration: an admin invites colleagues, changes roles, deactivates
and reactivates; the invited colleague sets a password through a single-use link."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.audit.models import AuditEvent
from portal.db import unit_of_work, utcnow
from portal.security.models import Session
from portal.settings import Settings
from portal.staff.models import StaffInvitation, StaffUser
from tests.factories import csrf_token, make_staff, make_world, staff_sign_in

Sessions = async_sessionmaker[AsyncSession]
ADMIN = "ada@acme.example"
PASSWORD = "a long and unrelated passphrase"


async def _org_with_admin(sessions: Sessions) -> tuple[int, int]:
    world = await make_world(sessions)
    admin = await make_staff(
        sessions, organization_id=world.organization_id, email=ADMIN, name="Ada Admin", role="admin"
    )
    return world.organization_id, admin


async def _post(client: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    token = await csrf_token(client)
    return await client.post(path, data={"csrftoken": token, **data})


async def _invite(client: httpx.AsyncClient, **data: str) -> httpx.Response:
    return await _post(client, "/staff/people", **data)


async def _inbox(app: Starlette, settings: Settings) -> list[email.message.EmailMessage]:
    while await app.state.worker.run_once():
        pass
    found = []
    for path in sorted(Path(settings.mail_dir).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        found.append(message)
    return found


def _link(message: email.message.EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text: str = body.get_content()
    link = next(w for w in text.split() if w.startswith("http://testserver/staff/l/"))
    return link.removeprefix("http://testserver")


async def _person_id(sessions: Sessions, address: str) -> int:
    async with sessions() as db:
        found = await db.scalar(select(StaffUser.id).where(StaffUser.email == address))
        assert found is not None
        return found


async def test_an_invited_colleague_sets_a_password_and_signs_in(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    await _org_with_admin(sessions)
    await staff_sign_in(client, ADMIN)
    page = await client.get("/staff/people")
    assert page.status_code == 200 and "Ada Admin" in page.text
    assert "You are the only one here so far" in page.text
    response = await _invite(client, name="Rui Costa", email=" Rui@Acme.example ", role="recruiter")
    assert response.status_code == 303
    assert response.headers["location"].endswith("/staff/people?done=invited")
    listing = await client.get("/staff/people?done=invited")
    assert "Invitation sent." in listing.text and "Rui Costa" in listing.text
    assert "Invited" in listing.text

    (message,) = await _inbox(app, settings)
    assert message["To"] == "rui@acme.example"
    assert "Ada Admin invited you to Acme Corp" in message["Subject"]
    link = _link(message)
    async with sessions() as db:  # only the token's digest is kept
        stored = (await db.scalars(select(StaffInvitation.token_hash))).all()
        assert link.rsplit("/", 1)[1].encode() not in stored

    opened = await other_client.get(link)
    assert opened.status_code == 200
    assert opened.headers["referrer-policy"] == "no-referrer"
    assert opened.headers["cache-control"] == "no-store"
    assert "Welcome, Rui Costa" in opened.text

    token = await csrf_token(other_client, link)
    short = await other_client.post(
        link, data={"csrftoken": token, "password": "short", "confirm": "short"}
    )
    assert short.status_code == 422 and "Use at least 12 characters." in short.text
    assert 'value="short"' not in short.text  # a password is never sent back
    different = await other_client.post(
        link, data={"csrftoken": token, "password": PASSWORD, "confirm": PASSWORD + "!"}
    )
    assert different.status_code == 422 and "The two passwords are not the same." in different.text
    done = await other_client.post(
        link, data={"csrftoken": token, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/staff/")
    home = await other_client.get("/staff/")
    assert "Rui Costa" in home.text and "Recruiter" in home.text

    # The link works once.
    again = await httpx_get_fresh(app, link)
    assert again.status_code == 404 and "no longer works" in again.text
    # And the password works at the sign-in page.
    other_client.cookies.clear()
    assert (await staff_sign_in(other_client, "rui@acme.example", PASSWORD)).status_code == 303
    async with sessions() as db:
        actions = set((await db.scalars(select(AuditEvent.action))).all())
    assert {"staff.invited", "staff.invitation_accepted"} <= actions


async def httpx_get_fresh(app: Starlette, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.50", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as fresh:
        return await fresh.get(path)


async def test_invitation_form_explains_mistakes_and_keeps_what_was_typed(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _org_with_admin(sessions)
    await staff_sign_in(client, ADMIN)
    bad = await _invite(client, name="<b>Rui</b>", email="not-an-address", role="admin")
    assert bad.status_code == 422
    assert "Enter an email address like name@example.com." in bad.text
    assert 'value="&lt;b&gt;Rui&lt;/b&gt;"' in bad.text and 'value="not-an-address"' in bad.text
    assert 'value="admin" checked' in bad.text
    missing = await _invite(client, name="", email="", role="recruiter")
    assert "Enter your colleague&#39;s name." in missing.text
    taken = await _invite(client, name="Ada Again", email=ADMIN.upper(), role="recruiter")
    assert taken.status_code == 422
    assert "Someone in your organization already has this address." in taken.text
    wrong_role = await _invite(client, name="Rui", email="rui@acme.example", role="owner")
    assert wrong_role.status_code == 422 and "Choose one of the options." in wrong_role.text
    huge = await _invite(client, name="x" * 5000, email="rui@acme.example", role="recruiter")
    assert huge.status_code == 422 and "Keep it to 200 characters" in huge.text
    async with sessions() as db:
        assert (
            await db.scalar(select(StaffUser.id).where(StaffUser.email == "rui@acme.example"))
        ) is None


async def test_an_expired_or_replaced_invitation_no_longer_works(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    await _org_with_admin(sessions)
    await staff_sign_in(client, ADMIN)
    await _invite(client, name="Rui Costa", email="rui@acme.example", role="recruiter")
    rui = await _person_id(sessions, "rui@acme.example")
    first = _link((await _inbox(app, settings))[0])
    assert (await _post(client, f"/staff/people/{rui}/invitation")).status_code == 303
    messages = await _inbox(app, settings)
    second = next(_link(m) for m in messages if _link(m) != first)
    assert (await httpx_get_fresh(app, first)).status_code == 404
    assert (await httpx_get_fresh(app, second)).status_code == 200
    async with unit_of_work(sessions) as db:
        await db.execute(update(StaffInvitation).values(expires_at=utcnow()))
    assert (await httpx_get_fresh(app, second)).status_code == 404
    assert (await httpx_get_fresh(app, "/staff/l/" + "x" * 500)).status_code == 404
    person = await client.get(f"/staff/people/{rui}")
    assert "the link has expired or was used up" in person.text


async def test_roles_change_but_never_leave_the_organization_without_an_admin(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id, admin = await _org_with_admin(sessions)
    sam = await make_staff(sessions, organization_id=organization_id)
    await staff_sign_in(client, ADMIN)
    alone = await _post(client, f"/staff/people/{admin}/role", role="recruiter")
    assert alone.status_code == 409 and "at least one active admin" in alone.text
    assert (await _post(client, f"/staff/people/{admin}/deactivate")).status_code == 409

    promoted = await _post(client, f"/staff/people/{sam}/role", role="admin")
    assert promoted.status_code == 303
    assert (await _post(client, f"/staff/people/{sam}/role", role="owner")).status_code == 422
    # With a second admin, Ada may step down; she then loses the admin pages.
    stepped = await _post(client, f"/staff/people/{admin}/role", role="recruiter")
    assert stepped.status_code == 303 and stepped.headers["location"].endswith("/staff/")
    assert (await client.get("/staff/people")).status_code == 404
    async with sessions() as db:
        changes = (
            await db.scalars(
                select(AuditEvent.details).where(AuditEvent.action == "staff.role_changed")
            )
        ).all()
    assert {"from": "recruiter", "to": "admin"} in changes
    assert {"from": "admin", "to": "recruiter"} in changes


async def test_deactivation_ends_sessions_at_once_and_reactivation_lets_them_back(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id, _ = await _org_with_admin(sessions)
    sam = await make_staff(sessions, organization_id=organization_id, name="Sam Recruiter")
    await staff_sign_in(other_client)
    assert (await other_client.get("/staff/")).status_code == 200
    await staff_sign_in(client, ADMIN)
    confirm = await client.get(f"/staff/people/{sam}/deactivate")
    assert confirm.status_code == 200 and "Deactivate Sam Recruiter?" in confirm.text
    # No CSRF token: refused, nothing changes.
    forged = await client.post(f"/staff/people/{sam}/deactivate")
    assert forged.status_code == 403
    assert (await other_client.get("/staff/")).status_code == 200

    done = await _post(client, f"/staff/people/{sam}/deactivate")
    assert done.status_code == 303 and done.headers["location"].endswith("done=deactivated")
    kicked = await other_client.get("/staff/")
    assert kicked.status_code == 303 and kicked.headers["location"].endswith("/staff/signin")
    async with sessions() as db:
        live = await db.scalar(
            select(Session.id_hash).where(
                Session.staff_user_id == sam, Session.revoked_at.is_(None)
            )
        )
        assert live is None
    refused = await staff_sign_in(other_client)
    assert refused.status_code == 422
    assert "Deactivated" in (await client.get("/staff/people")).text

    assert (await _post(client, f"/staff/people/{sam}/reactivate")).status_code == 303
    assert (await staff_sign_in(other_client)).status_code == 303
    async with sessions() as db:
        actions = (
            await db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == sam))
        ).all()
    assert "staff.deactivated" in actions and "staff.reactivated" in actions


async def test_only_admins_of_the_same_organization_administer_people(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id, admin = await _org_with_admin(sessions)
    sam = await make_staff(sessions, organization_id=organization_id)
    globex = await make_world(sessions, slug="globex", email="bo@example.com")
    await make_staff(
        sessions,
        organization_id=globex.organization_id,
        email="gus@globex.example",
        name="Gus Globex",
        role="admin",
    )
    # A recruiter finds no admin pages at all.
    await staff_sign_in(client)
    for path in ("/staff/people", f"/staff/people/{admin}", f"/staff/people/{admin}/deactivate"):
        assert (await client.get(path)).status_code == 404, path
    assert (await _post(client, f"/staff/people/{admin}/role", role="recruiter")).status_code == 404
    assert (await _invite(client, name="Eve", email="eve@acme.example")).status_code == 404
    # Another organization's admin: Acme's people are not there.
    await staff_sign_in(other_client, "gus@globex.example")
    listing = await other_client.get("/staff/people")
    assert "Gus Globex" in listing.text and "Ada Admin" not in listing.text
    for path in (f"/staff/people/{sam}", f"/staff/people/{sam}/deactivate"):
        assert (await other_client.get(path)).status_code == 404, path
    for action in ("deactivate", "reactivate", "invitation"):
        response = await _post(other_client, f"/staff/people/{sam}/{action}")
        assert response.status_code == 404, action
    assert (await _post(other_client, f"/staff/people/{sam}/role", role="admin")).status_code == 404
    async with sessions() as db:
        assert (await db.scalar(select(StaffUser.active).where(StaffUser.id == sam))) is True


async def test_an_admin_sets_a_colleagues_job_title_for_their_signature(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id, _ = await _org_with_admin(sessions)
    sam = await make_staff(sessions, organization_id=organization_id, name="Sam Rivera")
    assert (await staff_sign_in(client, ADMIN)).status_code == 303

    page = await client.get(f"/staff/people/{sam}")
    assert 'name="title"' in page.text
    saved = await _post(client, f"/staff/people/{sam}/title", title="  Senior Recruiter ")
    assert saved.status_code == 303
    assert "Job title saved." in (await client.get(saved.headers["location"])).text
    async with unit_of_work(sessions) as db:
        assert await db.scalar(select(StaffUser.title).where(StaffUser.id == sam)) == (
            "Senior Recruiter"
        )
        event = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "staff.title_changed")
        )
        assert event is not None and event.details == {"from": "", "to": "Senior Recruiter"}

    too_long = await _post(client, f"/staff/people/{sam}/title", title="<b>" + "x" * 200)
    assert too_long.status_code == 422
    assert "Keep it to 200 characters or fewer (this has 203)." in too_long.text
    assert "&lt;b&gt;" + "x" * 200 in too_long.text
    assert (await client.post(f"/staff/people/{sam}/title", data={"title": "x"})).status_code == 403
    # Empty: no title.
    assert (await _post(client, f"/staff/people/{sam}/title", title="")).status_code == 303
    async with unit_of_work(sessions) as db:
        assert await db.scalar(select(StaffUser.title).where(StaffUser.id == sam)) is None


async def test_another_organizations_colleague_has_no_title_to_set(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _org_with_admin(sessions)
    other = await make_world(sessions, slug="globex", email="bo@example.com")
    stranger = await make_staff(
        sessions, organization_id=other.organization_id, email="sam@globex.example"
    )
    assert (await staff_sign_in(client, ADMIN)).status_code == 303
    response = await _post(client, f"/staff/people/{stranger}/title", title="Mole")
    assert response.status_code == 404
    async with unit_of_work(sessions) as db:
        assert await db.scalar(select(StaffUser.title).where(StaffUser.id == stranger)) is None
