"""The pool's preferences ask one thing per question; a member changes how long they
stay (recorded, audited, told the new end date); the emailed leave page keeps the
organization's footer and leads back to the feedback; the migration that split
"which roles" from "how often"."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal import migrate
from portal.audit.models import AuditEvent
from portal.db import unit_of_work, utcnow
from portal.orgs.models import Organization
from portal.pool.models import PoolConsentEvent, PoolMembership
from portal.pool.panel import add_months
from portal.settings import Settings
from tests.factories import World, make_staff, make_world, sign_in, staff_sign_in
from tests.html import Page, text
from tests.pool_support import JOIN, join, leave_path, memberships, offer_pool, page_token

Sessions = async_sessionmaker[AsyncSession]


async def _candidate(client: httpx.AsyncClient, sessions: Sessions) -> World:
    world = await make_world(sessions)
    await offer_pool(sessions, world)
    await sign_in(client, sessions, world)
    return world


# --- 5. one question per fieldset --------------------------------------------------------


async def test_each_fieldset_of_the_pool_form_asks_one_thing(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _candidate(client, sessions)
    page = Page((await client.get(f"/feedback/{world.application_id}")).text)
    legends = {}
    for fieldset in page.all("#pool fieldset"):
        [legend] = [e for e in fieldset.iter() if e.tag.endswith("legend")]
        legends[text(legend)] = [text(e) for e in fieldset.iter() if e.tag.endswith("label")]
    assert legends["Which roles may we tell you about?"] == [
        "Only roles of the kinds I chose",
        "Any role that may suit me",
    ]
    assert legends["How often may we contact you?"] == [
        "Whenever a suitable role comes up",
        "At most once a month",
        "At most once a quarter",
    ]
    assert "How long may we keep you in the talent pool?" in legends
    assert "Would you like remote or on-site work?" in legends


async def test_which_roles_and_how_often_are_kept_apart(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _candidate(client, sessions)
    joined = await join(client, world, which_roles="chosen", contact_frequency="monthly")
    assert joined.status_code == 303
    [membership] = await memberships(sessions, world)
    assert membership.only_chosen_roles is True
    assert membership.contact_frequency == "monthly"
    page = await client.get(f"/feedback/{world.application_id}")
    assert 'value="chosen" checked' in page.text and 'value="monthly" checked' in page.text


async def test_only_chosen_roles_needs_a_kind_of_role(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _candidate(client, sessions)
    refused = await join(client, world, role_families=[], which_roles="chosen")
    assert refused.status_code == 422
    assert "Tick at least one kind of role above" in refused.text
    # No radio ticked: the browser sends nothing for it.
    token = await page_token(client, f"/feedback/{world.application_id}")
    unanswered = {k: v for k, v in JOIN.items() if k != "which_roles"}
    missing = await client.post(
        f"/feedback/{world.application_id}/pool", data={**unanswered, "csrftoken": token}
    )
    assert missing.status_code == 422
    assert "Choose which roles we may tell you about." in missing.text
    assert await memberships(sessions, world) == []


async def test_staff_read_which_roles_and_how_often_apart(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _candidate(client, sessions)
    await join(client, world, which_roles="chosen", contact_frequency="anytime")
    [membership] = await memberships(sessions, world)
    await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(other_client)).status_code == 303
    page = Page((await other_client.get(f"/staff/pool/{membership.id}")).text)
    facts = dict(
        zip(
            [text(dt_) for dt_ in page.all("dl.account dt")],
            [text(dd) for dd in page.all("dl.account dd")],
            strict=True,
        )
    )
    assert facts["Roles to hear about"] == "Only roles of the kinds chosen"
    assert facts["How often"] == "Whenever a suitable role comes up"


# --- 6. changing how long ----------------------------------------------------------------


async def _post_duration(
    client: httpx.AsyncClient, world: World, months: str, *, htmx: bool = False
) -> httpx.Response:
    token = await page_token(client, f"/feedback/{world.application_id}")
    return await client.post(
        f"/feedback/{world.application_id}/pool/duration",
        data={"duration_months": months, "csrftoken": token},
        headers={"hx-request": "true"} if htmx else {},
    )


async def test_a_member_changes_how_long_they_stay_and_is_told_the_new_end(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _candidate(client, sessions)
    await join(client, world, duration_months="12")
    [before] = await memberships(sessions, world)
    page = await client.get(f"/feedback/{world.application_id}")
    six = add_months(before.joined_at, 6)
    assert re.search(r"6 months, until \d+ \w+ 20\d\d", page.text)

    changed = await _post_duration(client, world, "6")
    assert changed.status_code == 303
    expected = f"/feedback/{world.application_id}?pool=duration#pool-message"
    assert changed.headers["location"] == expected
    [after] = await memberships(sessions, world)
    assert (after.duration_months, after.expires_at) == (6, six)
    assert after.joined_at == before.joined_at and after.state == "active"
    told = Page((await client.get(changed.headers["location"])).text)
    status = text(told.one("#pool [role=status]"))
    assert status.startswith("Saved: you are now in the Acme Corp talent pool until")
    assert re.search(r"until \d+ \w+ 20\d\d", status)

    async with sessions() as db:
        event = await db.scalar(select(PoolConsentEvent).order_by(PoolConsentEvent.id.desc()))
        audited = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "pool.duration_changed")
        )
    assert event is not None and (event.kind, event.actor_kind) == ("changed", "candidate")
    assert event.details["changed"] == "duration"
    assert event.details["previous_duration_months"] == 12
    assert event.details["duration_months"] == 6
    assert audited is not None and audited.subject_id == after.id

    # With htmx: only the panel, with the new date.
    again = await _post_duration(client, world, "24", htmx=True)
    assert again.status_code == 200 and "<html" not in again.text
    assert "Saved: you are now in the Acme Corp talent pool until" in again.text


async def test_the_staff_history_shows_the_change_of_duration(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _candidate(client, sessions)
    await join(client, world, duration_months="12")
    await _post_duration(client, world, "24")
    [membership] = await memberships(sessions, world)
    await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(other_client)).status_code == 303
    page = await other_client.get(f"/staff/pool/{membership.id}")
    assert "Changed how long they stay: from 12 to 24 months" in page.text
    rows = [text(row) for row in Page(page.text).all("table.listing tbody tr")]
    assert len(rows) == 2 and "Joined" in rows[0]
    audit_page = await other_client.get("/staff/audit")
    if audit_page.status_code == 200:  # admins only
        assert "changed how long they stay in" in audit_page.text


async def test_a_duration_not_offered_or_already_over_is_refused(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _candidate(client, sessions)
    await join(client, world, duration_months="12")
    [before] = await memberships(sessions, world)
    refused = await _post_duration(client, world, "7")
    assert refused.status_code == 422
    assert "Choose one of the periods listed." in refused.text
    missing = await _post_duration(client, world, "")
    assert "Choose how long we may keep you in the pool." in missing.text
    # Joined eight months ago: six months from then is over, and not offered.
    joined = utcnow() - dt.timedelta(days=245)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(PoolMembership).values(joined_at=joined, expires_at=add_months(joined, 12))
        )
    page = await client.get(f"/feedback/{world.application_id}")
    assert 'name="duration_months" value="6"' not in page.text
    over = await _post_duration(client, world, "6")
    assert over.status_code == 422
    assert "That period has already ended" in over.text
    [after] = await memberships(sessions, world)
    assert after.duration_months == before.duration_months


async def test_changing_the_duration_after_a_renewal_counts_from_the_renewal(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _candidate(client, sessions)
    await join(client, world, duration_months="6")
    [membership] = await memberships(sessions, world)
    renewed_at = membership.joined_at + dt.timedelta(days=150)
    async with unit_of_work(sessions) as db:
        db.add(
            PoolConsentEvent(
                membership_id=membership.id,
                kind="renewed",
                consent_text_id=membership.consent_text_id,
                actor_kind="email_link",
                at=renewed_at,
                details={},
            )
        )
        await db.execute(
            update(PoolMembership).values(
                expires_at=add_months(renewed_at, 6), renewal_requested_at=renewed_at
            )
        )
    await _post_duration(client, world, "12")
    [after] = await memberships(sessions, world)
    assert after.expires_at == add_months(renewed_at, 12)
    assert after.renewal_requested_at is None  # a later end: the reminder is due again


async def test_changing_the_duration_needs_csrf_membership_and_ones_own_application(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _candidate(client, sessions)
    theirs = await make_world(sessions, email="eve@example.com", name="Eve")
    await offer_pool(sessions, theirs)
    forged = await client.post(
        f"/feedback/{world.application_id}/pool/duration",
        data={"duration_months": "6", "csrftoken": "forged"},
    )
    assert forged.status_code == 403
    # Not a member: nothing to change, nothing made.
    await _post_duration(client, world, "6")
    assert await memberships(sessions, world) == []
    token = await page_token(client, f"/feedback/{world.application_id}")
    other = await client.post(
        f"/feedback/{theirs.application_id}/pool/duration",
        data={"duration_months": "6", "csrftoken": token},
    )
    assert other.status_code == 404
    await join(client, world, duration_months="12")
    script = await _post_duration(client, world, "<script>alert(1)</script>")
    assert script.status_code == 422 and "<script>alert(1)" not in script.text
    [membership] = await memberships(sessions, world)
    assert membership.duration_months == 12


# --- 7. the leave page -------------------------------------------------------------------


async def test_the_leave_page_keeps_the_footer_and_leads_back_to_the_feedback(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world = await _candidate(client, sessions)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Organization).values(
                privacy_url="https://acme.example/privacy", contact_email="jobs@acme.example"
            )
        )
    await join(client, world)
    [membership] = await memberships(sessions, world)
    path = leave_path(settings, membership.id)
    opened = Page((await other_client.get(path)).text)
    footer = {text(a): a.get("href") for a in opened.all("footer a")}
    assert footer["Privacy notice"] == "https://acme.example/privacy"
    left = await other_client.post(path, data={"List-Unsubscribe": "One-Click"})
    page = Page(left.text)
    assert text(page.one("h1")) == "You have left the talent pool"
    links = {text(a): a.get("href") for a in page.all("main a")}
    assert links["Back to your feedback"] == f"/feedback/{world.application_id}"
    footer = {text(a): a.get("href") for a in page.all("footer a")}
    assert footer["jobs@acme.example"] == "mailto:jobs@acme.example"
    assert "Acme Corp uses Afterword" in text(page.one("footer"))


async def test_the_leave_page_has_no_link_when_the_application_is_gone(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world = await _candidate(client, sessions)
    await join(client, world)
    [membership] = await memberships(sessions, world)
    async with unit_of_work(sessions) as db:
        await db.execute(update(PoolMembership).values(source_application_id=None))
    left = await other_client.post(
        leave_path(settings, membership.id), data={"List-Unsubscribe": "One-Click"}
    )
    assert left.status_code == 200
    assert "Back to your feedback" not in left.text


# --- the migration -----------------------------------------------------------------------


def _insert(db: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
    """A row with `values`, every other NOT NULL column blank."""
    for _, column, kind, not_null, default, key in db.execute(f"PRAGMA table_info({table})"):
        if not_null and default is None and not key:
            blank = 0 if kind in ("INTEGER", "BOOLEAN") else "[]" if kind == "JSON" else ""
            values.setdefault(column, blank)
    placeholders = ", ".join("?" for _ in values)
    db.execute(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES ({placeholders})",  # noqa: S608
        list(values.values()),
    )


def test_matching_members_keep_what_they_chose_and_their_history(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(settings, "0019_time_zones")
    stamp = "2026-01-01 00:00:00"
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("PRAGMA foreign_keys=ON")
        _insert(
            db,
            "organizations",
            {
                "id": 7,
                "slug": "acme",
                "accent_colour": "#224466",
                "reply_promise_days": 5,
                "invitation_days": 14,
                "consent_text_version": 1,
                "consent_durations_months": "[6]",
                "created_at": stamp,
            },
        )
        _insert(db, "candidates", {"id": 5, "organization_id": 7, "created_at": stamp})
        _insert(
            db,
            "pool_consent_texts",
            {"id": 2, "organization_id": 7, "version": 1, "created_at": stamp},
        )
        for number, frequency in ((1, "matching"), (2, "monthly")):
            _insert(
                db,
                "pool_memberships",
                {
                    "id": number,
                    "organization_id": 7,
                    "candidate_id": 5,
                    "consent_text_id": 2,
                    "state": "active" if number == 1 else "left",
                    "remote": "either",
                    "contact_frequency": frequency,
                    "duration_months": 6,
                    "joined_at": stamp,
                    "expires_at": stamp,
                },
            )
            _insert(
                db,
                "pool_consent_events",
                {
                    "membership_id": number,
                    "kind": "joined",
                    "consent_text_id": 2,
                    "actor_kind": "candidate",
                    "at": stamp,
                    "details": "{}",
                },
            )
    migrate.upgrade(settings)
    with sqlite3.connect(tmp_path / "old.db") as db:
        rows = db.execute(
            "SELECT id, contact_frequency, only_chosen_roles FROM pool_memberships ORDER BY id"
        ).fetchall()
        assert rows == [(1, "anytime", 1), (2, "monthly", 0)]
        assert db.execute("SELECT count(*) FROM pool_consent_events").fetchone() == (2,)
        try:
            db.execute("UPDATE pool_memberships SET contact_frequency = 'matching'")
        except sqlite3.IntegrityError:
            pass
        else:  # pragma: no cover
            raise AssertionError("the old value is still allowed")
    command.downgrade(migrate.alembic_config(settings), "0019_time_zones")
    with sqlite3.connect(tmp_path / "old.db") as db:
        assert db.execute(
            "SELECT id, contact_frequency FROM pool_memberships ORDER BY id"
        ).fetchall() == [(1, "matching"), (2, "monthly")]
        assert db.execute("SELECT count(*) FROM pool_consent_events").fetchone() == (2,)
