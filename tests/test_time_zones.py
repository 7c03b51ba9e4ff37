"""Times for people: in the reader's time zone (their own, or their organization's,
which an admin sets on the settings page), written like "6 Dec 2026, 14:05 CET"."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.formats import (
    date_and_time,
    in_zone,
    time_zone_choices,
    time_zone_name,
    zone_info,
)
from portal.orgs.models import Organization
from portal.web.templates import make_templates
from tests.factories import csrf_token, make_staff, make_world, open_session

Sessions = async_sessionmaker[AsyncSession]
WINTER = dt.datetime(2026, 12, 6, 13, 5, tzinfo=dt.UTC)
SUMMER = dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)


def test_a_moment_in_berlin_and_in_new_york() -> None:
    assert date_and_time(WINTER, "UTC") == "6 Dec 2026, 13:05 UTC"
    assert date_and_time(WINTER, "Europe/Berlin") == "6 Dec 2026, 14:05 CET"
    assert date_and_time(WINTER, "America/New_York") == "6 Dec 2026, 08:05 EST"
    assert date_and_time(SUMMER, "Europe/Berlin") == "1 Jul 2026, 11:30 CEST"
    assert date_and_time(SUMMER, "America/New_York") == "1 Jul 2026, 05:30 EDT"
    # Across midnight, the date is the reader's.
    late = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    assert date_and_time(late, "Europe/Berlin") == "1 Jan 2027, 00:30 CET"
    assert in_zone(late, "America/New_York").date() == dt.date(2026, 12, 31)
    # A zone without letters of its own gets its offset.
    assert date_and_time(WINTER, "Asia/Dubai") == "6 Dec 2026, 17:05 UTC+04"
    assert date_and_time(WINTER, "Asia/Kathmandu") == "6 Dec 2026, 18:50 UTC+05:45"
    assert date_and_time(WINTER, "America/St_Johns") == "6 Dec 2026, 09:35 NST"


def test_zone_names_are_the_tz_databases() -> None:
    assert time_zone_name("europe/berlin") == "Europe/Berlin"
    assert time_zone_name(" UTC ") == "UTC"
    assert time_zone_name("America/New_York") == "America/New_York"
    for unknown in ("Mars/Olympus_Mons", "localtime", "Factory", "", "Europe/"):
        assert time_zone_name(unknown) is None, unknown
    choices = time_zone_choices()
    assert choices[0] == "UTC" and "Europe/Berlin" in choices and "Asia/Kolkata" in choices
    assert all(time_zone_name(zone) == zone for zone in choices)
    # A stored zone the tz database forgot reads as UTC rather than failing.
    assert zone_info("Gone/Away").key == "UTC" and zone_info(None).key == "UTC"


def test_the_when_helper_marks_up_a_machine_readable_time() -> None:
    templates = make_templates()

    template = templates.env.from_string("{{ when(at) }}|{{ when(none) }}")
    # Without a signed-in staff member: UTC.
    assert template.render(at=WINTER) == (
        '<time datetime="2026-12-06T13:05:00+00:00">6 Dec 2026, 13:05 UTC</time>|'
    )


async def _admin(sessions: Sessions, client: httpx.AsyncClient) -> int:
    world = await make_world(sessions)
    admin = await make_staff(
        sessions, organization_id=world.organization_id, email="ada@acme.example", role="admin"
    )
    client.cookies.set("afterword_session", await open_session(sessions, staff_user_id=admin))
    return world.organization_id


def _settings(**changes: str) -> dict[str, str]:
    return {
        "display_name": "Acme Corp",
        "accent_colour": "#224466",
        "reply_promise_days": "5",
        "invitation_days": "14",
        "consent_text": "",
        "mail_from_name": "",
        "privacy_url": "",
        "contact_email": "",
        "time_zone": "UTC",
        "version": "1",
        **changes,
    }


async def test_an_admin_sets_the_organizations_time_zone(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id = await _admin(sessions, client)
    page = await client.get("/staff/settings")
    assert 'name="time_zone" value="UTC"' in page.text and 'list="time-zones"' in page.text
    token = await csrf_token(client, "/staff/settings")
    bad = await client.post(
        "/staff/settings",
        data={"csrftoken": token, **_settings(time_zone="Berlin", display_name="Kept")},
    )
    assert bad.status_code == 422
    assert "Enter a time zone by its region and city" in bad.text
    assert 'value="Berlin"' in bad.text and 'value="Kept"' in bad.text
    saved = await client.post(
        "/staff/settings", data={"csrftoken": token, **_settings(time_zone="asia/tokyo")}
    )
    assert saved.status_code == 303
    async with sessions() as db:
        org = await db.get_one(Organization, organization_id)
        event = (
            await db.scalars(
                select(AuditEvent).where(AuditEvent.action == "organization.settings_changed")
            )
        ).one()
    assert (org.time_zone, org.version) == ("Asia/Tokyo", 2)
    assert event.details == {"fields": ["time_zone"]}
    assert "Asia/Tokyo" in (await client.get("/staff/")).text  # the admin's pages follow
    # A form loaded before that save is stale: the optimistic check still holds.
    stale = await client.post(
        "/staff/settings", data={"csrftoken": token, **_settings(time_zone="Europe/Paris")}
    )
    assert stale.status_code == 409
    assert "Europe/Paris" in stale.text and "Asia/Tokyo" in stale.text
    empty = await client.post(
        "/staff/settings", data={"csrftoken": token, **_settings(time_zone="", version="2")}
    )
    assert (
        empty.status_code == 422 and "Enter a time zone, like Europe/Berlin or UTC." in empty.text
    )


async def test_new_organizations_start_in_utc(sessions: Sessions) -> None:
    await make_world(sessions)
    async with sessions() as db:
        zones = (await db.scalars(select(Organization.time_zone))).all()
    assert zones == ["UTC"]
