"""A staff member's own profile: name, job title and time zone, checked, audited and
protected like every form."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.db import unit_of_work
from portal.orgs.models import Organization
from portal.staff.models import StaffUser
from tests.factories import csrf_token, make_staff, make_world, open_session

Sessions = async_sessionmaker[AsyncSession]
COOKIE = "afterword_session"


async def _recruiter(sessions: Sessions, client: httpx.AsyncClient) -> tuple[int, int]:
    world = await make_world(sessions)
    staff = await make_staff(sessions, organization_id=world.organization_id, name="Priya Raman")
    client.cookies.set(COOKIE, await open_session(sessions, staff_user_id=staff))
    return world.organization_id, staff


def _form(**changes: str) -> dict[str, str]:
    return {"name": "Priya Raman", "title": "", "seen_title": "", "time_zone": "", **changes}


async def _save(client: httpx.AsyncClient, **changes: str) -> httpx.Response:
    token = await csrf_token(client, "/staff/profile")
    return await client.post("/staff/profile", data={"csrftoken": token, **_form(**changes)})


async def _person(sessions: Sessions, staff_id: int) -> StaffUser:
    async with sessions() as db:
        return await db.get_one(StaffUser, staff_id)


async def test_any_staff_member_changes_their_profile(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id, staff = await _recruiter(sessions, client)
    page = await client.get("/staff/profile")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'value="Priya Raman"' in page.text
    assert "use your organization&#39;s: UTC" in page.text
    assert (
        '<datalist id="time-zones">' in page.text and '<option value="Europe/Berlin">' in page.text
    )
    assert 'href="/staff/profile"' in (await client.get("/staff/")).text

    saved = await _save(
        client, name="Priya R. Raman", title="Senior Recruiter", time_zone=" europe/berlin "
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/staff/profile?saved=1")
    again = await client.get(saved.headers["location"])
    assert "Profile saved." in again.text
    assert 'value="Europe/Berlin"' in again.text and 'value="Senior Recruiter"' in again.text
    person = await _person(sessions, staff)
    assert (person.name, person.title, person.time_zone) == (
        "Priya R. Raman",
        "Senior Recruiter",
        "Europe/Berlin",
    )
    # Their pages now read times in their zone.
    assert "Europe/Berlin" in (await client.get("/staff/")).text
    async with sessions() as db:
        event = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == "staff.profile_changed"))
        ).one()
    assert (event.actor_id, event.subject_type, event.subject_id) == (staff, "staff_user", staff)
    assert event.organization_id == organization_id and event.ip_hash
    assert event.details["fields"] == ["name", "time_zone", "title"]
    assert event.details["to"]["time_zone"] == "Europe/Berlin"

    # Saving it unchanged records nothing; emptying the zone goes back to the
    # organization's.
    await _save(client, name="Priya R. Raman", title="Senior Recruiter",
                seen_title="Senior Recruiter", time_zone="Europe/Berlin")  # fmt: skip
    await _save(client, name="Priya R. Raman", title="Senior Recruiter",
                seen_title="Senior Recruiter", time_zone="")  # fmt: skip
    assert (await _person(sessions, staff)).time_zone is None
    async with sessions() as db:
        count = len(
            (
                await db.scalars(
                    select(AuditEvent.id).where(AuditEvent.action == "staff.profile_changed")
                )
            ).all()
        )
    assert count == 2


async def test_a_time_zone_it_does_not_know_is_explained_and_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, staff = await _recruiter(sessions, client)
    for typed in ("Mars/Olympus_Mons", "localtime", "CET; DROP TABLE", "x" * 65):
        answer = await _save(client, name="Someone Else", time_zone=typed)
        assert answer.status_code == 422, typed
        assert 'value="Someone Else"' in answer.text  # everything typed is kept
        if len(typed) <= 64:
            assert "Enter a time zone by its region and city, like Europe/Berlin" in answer.text
            assert f'value="{typed}"' in answer.text.replace("&#34;", '"')
        else:
            assert "Keep it to 64 characters or fewer" in answer.text
    assert (await _person(sessions, staff)).name == "Priya Raman"  # nothing saved
    empty_name = await _save(client, name="  ")
    assert empty_name.status_code == 422 and "Enter your name." in empty_name.text


async def test_an_admins_newer_title_is_kept_when_the_field_was_left_alone(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, staff = await _recruiter(sessions, client)
    # The page showed no title; an admin gives one meanwhile.
    async with unit_of_work(sessions) as db:
        await db.execute(update(StaffUser).where(StaffUser.id == staff).values(title="Lead"))
    await _save(client, time_zone="Asia/Kolkata")
    person = await _person(sessions, staff)
    assert (person.title, person.time_zone) == ("Lead", "Asia/Kolkata")


async def test_the_profile_refuses_forgeries_and_shows_markup_as_text(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, staff = await _recruiter(sessions, client)
    await client.get("/staff/profile")
    forged = await client.post("/staff/profile", data=_form(name="Forged"))
    assert forged.status_code == 403
    assert (await _person(sessions, staff)).name == "Priya Raman"
    # Nobody signed in: to the sign-in page.
    stranger = await other_client.get("/staff/profile")
    assert stranger.status_code == 303 and stranger.headers["location"].endswith("/staff/signin")
    token = await csrf_token(other_client, "/staff/signin")
    posted = await other_client.post("/staff/profile", data={"csrftoken": token, **_form()})
    assert posted.status_code == 303 and posted.headers["location"].endswith("/staff/signin")

    await _save(client, name="<script>alert(1)</script>", title="<b>Boss</b>")
    page = await client.get("/staff/profile")
    assert "<script>alert(1)" not in page.text and "<b>Boss" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_the_hint_names_the_organizations_zone(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id, _ = await _recruiter(sessions, client)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Organization)
            .where(Organization.id == organization_id)
            .values(time_zone="America/New_York")
        )
    page = await client.get("/staff/profile")
    assert "use your organization&#39;s: America/New_York" in page.text
    assert "America/New_York" in (await client.get("/staff/")).text
